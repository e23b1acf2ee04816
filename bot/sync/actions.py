"""What people do about sync errors: re-sync, couple, uncouple, restore, delete, take a side.

Each action returns an ActionOutcome; on success the error is resolved (by whom, how) and, in the same
transaction, its Slack message is queued for an edit. A failed action changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.connectors.errors import ConnectorError, NotFound
from bot.connectors.models import Record
from bot.phrases import Phrase, app, caption, english, noun, say
from bot.sync.classify import ClassifyContext, classify
from bot.sync.engine import SYSTEM_ACTOR, RecordSyncResult, SyncEngine
from bot.sync.fieldmap import MappingSpec, MatchField, flows
from bot.sync.locate import Located, Locator, RecordMissing
from bot.sync.mappings import spec_for
from bot.sync.pairs import couple_pair
from bot.sync.project import destination_system, source_system
from storage.couplings import (
    by_bc_ids,
    by_dataverse_ids,
    failed_not_skipped,
    forget_uncoupled,
    get_by_bc,
    get_by_dataverse,
    list_skipped,
    uncouple,
)
from storage.db import session_scope
from storage.errors import get_error, live_record_errors, resolve_error
from storage.jobs import finish_job, start_job
from storage.models import (
    Category,
    Coupling,
    DeletionConflictResolution,
    Direction,
    ErrorStatus,
    JobType,
    SyncError,
    SyncJob,
    SyncResult,
    System,
    Trigger,
)
from storage.outbox import enqueue_edit

SyncChoice = Literal["none", "bc", "dataverse"]
Side = Literal["business_central", "dataverse"]


@dataclass
class ActionOutcome:
    """The result of an action as a phrase (worded by the reader's side), the error it concerned, any data."""

    ok: bool
    said: Phrase
    error: SyncError | None = None
    data: dict[str, Any] = field(default_factory=dict)
    refused: bool = False  # the fix does not apply to the error's state: nothing was tried or changed

    @property
    def message(self) -> str:
        """What was said, in English (the audit detail, the logs)."""
        return english(self.said)


def _is_conflict(error: SyncError) -> bool:
    """An update conflict (changed in both apps) whose sides a person can choose between."""
    return error.category == Category.UPDATE_CONFLICT and not (error.facts or {}).get("stale_etag")


def open_error(db: Engine, error_id: int) -> SyncError | ActionOutcome:
    """Error #ID if a fix can act on it; else the refusal (no such error, or already resolved)."""
    with session_scope(db) as session:
        error = get_error(session, error_id=error_id)
    if error is None:
        return _refusal(say("action.no_error", id=error_id))
    if error.status == ErrorStatus.RESOLVED:
        when = error.resolved_at.strftime("%Y-%m-%d %H:%M UTC") if error.resolved_at else say("term.earlier")
        resolved = say("action.already_resolved", id=error_id, user=str(error.resolved_by), when=when)
        return _refusal(resolved, error)
    return error


def refusal_before_asking(db: Engine, error_id: int, *, conflict_only: bool = False) -> ActionOutcome | None:
    """Why a fix of error #ID does not apply, from the store alone: asked before a confirmation prompt.

    The business apps are read again only after the yes (restore and delete-record check both records).
    """
    error = open_error(db, error_id)
    if isinstance(error, ActionOutcome):
        return error
    if conflict_only and not _is_conflict(error):
        return _refusal(say("action.not_a_conflict", id=error_id, category=str(error.category)), error)
    return None


def _refusal(said: Phrase, error: SyncError | None = None) -> ActionOutcome:
    """A fix that does not apply: one line saying why and what would; nothing changed."""
    return ActionOutcome(False, said, error, refused=True)


def _reason(text: object) -> Phrase:
    """What another part said (the business app, a job's message): passed on as it is."""
    return say("action.reason", reason=str(text))


def _record(table: str, key: object) -> Phrase:
    """ "customer 10000" in the reader's words."""
    return say("term.record_key", record=noun(table), key=str(key))


def _located(located: Located) -> Phrase:
    side = located.spec.side(located.system)
    return _record(side.name, located.key or located.record_id or "")


def _missing(located: Located) -> Phrase:
    return say("action.not_found", record=_located(located), app=app(located.system))


def _and(first: Phrase, then: Phrase) -> Phrase:
    return say("action.and", first=first, then=then)


class SyncActions:
    """The fixes of the troubleshooting page and the coupling tools, on top of a SyncEngine."""

    def __init__(self, engine: SyncEngine, *, trigger: Trigger = Trigger.USER) -> None:
        self.engine = engine
        self.trigger = trigger  # Trigger.CLI when the terminal asks, so the job log says who started it
        self.db = engine.db
        self.locator = Locator(db=engine.db, bc=engine.bc, dataverse=engine.dataverse)

    # ---- re-sync -------------------------------------------------------------------------------

    def resync(self, error_id: int, *, actor: str) -> ActionOutcome:
        """Re-run the record behind an error in the error's direction, clearing Skipped."""
        error = self._error(error_id)
        if isinstance(error, ActionOutcome):
            return error
        if error.source_id is None:
            jobs = self.engine.run([error.mapping], trigger=self.trigger)
            failed = [j for j in jobs if j.message]
            if failed:
                return ActionOutcome(
                    False, say("action.rerun_failed", mapping=error.mapping, reason=failed[0].message), error
                )
            return self._resolved(error_id, actor, "Re-ran the mapping", say("action.resynced"))
        result = self.engine.sync_records(error.mapping, Direction(error.direction), [error.source_id])
        if error.source_id in result.missing:
            return ActionOutcome(False, say("action.source_gone", record=self._source_label(error)), error)
        if error.source_id in result.succeeded:
            return self._resolved(
                error_id, actor, "Re-synchronized", say("action.resynced"), job_id=result.job.id
            )
        return self._still_failing(error, result)

    def resync_failed(self, mapping: str | None = None, *, actor: str) -> ActionOutcome:
        """Re-sync every record with a live error or a failed/skipped coupling (of one mapping, or all)."""
        names = [spec_for(mapping).name] if mapping else [m.name for m in self.engine.mappings()]
        attempted = succeeded = 0
        for name in names:
            spec = spec_for(name)
            for direction in (Direction.TO_DATAVERSE, Direction.FROM_DATAVERSE):
                if not flows(spec.direction, direction):
                    continue
                ids = self._failed_ids(spec, direction)
                if not ids:
                    continue
                result = self.engine.sync_records(name, direction, ids)
                attempted += len(ids)
                succeeded += len(result.succeeded)
                self.engine.resolve_synced(
                    spec, direction, result.succeeded, resolution="Re-synchronized", by=actor
                )
        failed = attempted - succeeded
        said = say("action.resynced_failed", succeeded=succeeded, n=attempted, failed=failed)
        return ActionOutcome(failed == 0, said, data={"attempted": attempted, "succeeded": succeeded})

    def _failed_ids(self, spec: MappingSpec, direction: Direction) -> list[str]:
        system = source_system(direction)
        side = spec.side(system)
        with session_scope(self.db) as session:
            ids = [
                e.source_id
                for e in live_record_errors(
                    session, mapping=spec.name, direction=direction, source_table=side.name
                )
                if e.source_id
            ]
            couplings: list[Coupling] = failed_not_skipped(session, mapping=spec.name, direction=direction)
            result_of = (
                "last_result_to_dataverse"
                if direction is Direction.TO_DATAVERSE
                else "last_result_from_dataverse"
            )
            couplings += [
                c
                for c in list_skipped(session, mapping=spec.name, limit=100_000)
                if getattr(c, result_of) == SyncResult.FAILURE
            ]
        ids += [c.bc_id if system is System.BUSINESS_CENTRAL else c.dataverse_id for c in couplings]
        return list(dict.fromkeys(ids))

    # ---- coupling ------------------------------------------------------------------------------

    def couple(
        self, bc_ref: str, dataverse_ref: str, *, sync: SyncChoice = "none", actor: str
    ) -> ActionOutcome:
        """Couple a Business Central record to a Dataverse row; refuses when either is already coupled."""
        bc_at = self.locator.locate(bc_ref)
        dv_at = self.locator.locate(dataverse_ref)
        if bc_at.system is not System.BUSINESS_CENTRAL or dv_at.system is not System.DATAVERSE:
            return ActionOutcome(False, say("action.bc_first"))
        if bc_at.spec.name != dv_at.spec.name:
            return ActionOutcome(
                False,
                say(
                    "action.not_same_mapping",
                    bc=_located(bc_at),
                    dataverse=_located(dv_at),
                    bc_mapping=bc_at.spec.name,
                    dataverse_mapping=dv_at.spec.name,
                ),
            )
        spec = bc_at.spec
        try:
            bc_record = self.locator.record(bc_at)
        except RecordMissing:
            return ActionOutcome(False, _missing(bc_at))
        try:
            dv_record = self.locator.record(dv_at)
        except RecordMissing:
            return ActionOutcome(False, _missing(dv_at))
        with session_scope(self.db) as session:
            taken_bc = get_by_bc(session, table=spec.bc.entity_set, record_id=bc_record.id)
            taken_dv = get_by_dataverse(session, table=spec.dataverse.entity_set, record_id=dv_record.id)
        bc_key = spec.bc.key_of(bc_record.fields) or bc_record.id
        bc_label, dv_label = _record(spec.bc.name, bc_key), _located(dv_at)
        outside = outside_filter(spec, (bc_record, bc_label), (dv_record, dv_label))
        if outside is not None:
            return _refusal(outside)
        if taken_bc is not None and taken_bc.dataverse_id == dv_record.id:
            if sync != "none":  # the same pair again: keep the coupling, sync the side that was asked for
                return self._sync_after_coupling(
                    spec,
                    sync,
                    bc_record.id,
                    dv_record.id,
                    say("action.were_coupled", bc=bc_label, dataverse=dv_label),
                    {"coupling_id": taken_bc.id},
                )
            return _refusal(say("action.already_coupled_pair", bc=bc_label, dataverse=dv_label))
        if taken_dv is not None and taken_dv.bc_id != bc_record.id:
            other = _record(spec.bc.name, taken_dv.bc_key or taken_dv.bc_id)
            return _refusal(say("action.dataverse_taken", bc=bc_label, other=other))
        if taken_bc is not None and taken_bc.dataverse_id != dv_record.id:
            other = _record(spec.dataverse.name, taken_bc.dataverse_id)
            return _refusal(say("action.bc_taken", bc=bc_label, dataverse=dv_label, other=other))
        with session_scope(self.db) as session:
            job = self._start_job(session, spec, JobType.COUPLING)
            # The side whose values are taken counts as changed; the other as synced as it is.
            as_is = [
                system
                for system, taken in ((System.BUSINESS_CENTRAL, "bc"), (System.DATAVERSE, "dataverse"))
                if sync != taken
            ]
            coupling = couple_pair(
                session, spec=spec, bc_record=bc_record, dataverse_record=dv_record, synced_as_is=as_is
            )
            job.coupled = 1
            finish_job(
                session, job=job, message=f"Coupled {english(bc_label)} by {actor}.", now=self.engine.clock()
            )
            coupling_id = coupling.id
        message = say("action.coupled", bc=bc_label, dataverse=_record(spec.dataverse.name, dv_record.id))
        data: dict[str, Any] = {"coupling_id": coupling_id, "job_id": job.id}
        if sync != "none":
            return self._sync_after_coupling(spec, sync, bc_record.id, dv_record.id, message, data)
        return ActionOutcome(True, message, data=data)

    def _sync_after_coupling(
        self,
        spec: MappingSpec,
        sync: SyncChoice,
        bc_id: str,
        dataverse_id: str,
        message: Phrase,
        data: dict[str, Any],
    ) -> ActionOutcome:
        """Synchronize After Coupling: the chosen side's values overwrite the other's."""
        direction = Direction.TO_DATAVERSE if sync == "bc" else Direction.FROM_DATAVERSE
        source_id = bc_id if sync == "bc" else dataverse_id
        result = self.engine.sync_records(spec.name, direction, [source_id], overwrite=True)
        data["sync_job_id"] = result.job.id
        if source_id not in result.succeeded:
            return ActionOutcome(False, _and(message, say("action.sync_after_failed")), data=data)
        synced = say("action.synced_from", app=app(source_system(direction)))
        return ActionOutcome(True, _and(message, synced), data=data)

    def couple_create(self, ref: str, *, actor: str) -> ActionOutcome:
        """Create New: create the partner of one uncoupled record on the other side and couple it."""
        located = self.locator.locate(ref)
        spec = located.spec
        if located.coupling is not None:
            return _refusal(say("action.already_coupled_create", record=_located(located)))
        try:
            record = self.locator.record(located)
        except RecordMissing:
            return _refusal(_missing(located))
        label = _located(located)
        outside = outside_filter(spec, (record, label))
        if outside is not None:
            return _refusal(outside)
        direction = (
            Direction.TO_DATAVERSE if located.system is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        )
        if not flows(spec.direction, direction):
            return _refusal(say("action.no_flow_create", mapping=spec.name, app=app(located.system)))
        with session_scope(self.db) as session:
            forget_uncoupled(
                session,
                system=located.system,
                table=spec.side(located.system).entity_set,
                record_id=record.id,
            )
        result = self.engine.sync_records(
            spec.name, direction, [record.id], create_new=True, trigger=self.trigger
        )
        if record.id not in result.succeeded:
            why = _reason(result.aborted.message) if result.aborted is not None else say("term.see_list")
            return ActionOutcome(
                False, say("action.create_failed", record=label, reason=why), data={"job_id": result.job.id}
            )
        other = app(destination_system(direction))
        return ActionOutcome(
            True, say("action.created", record=label, app=other), data={"job_id": result.job.id}
        )

    def couple_match(
        self,
        mapping: str,
        *,
        actor: str,
        fields: Sequence[tuple[str, str]] | None = None,
        case_sensitive: bool = False,
    ) -> ActionOutcome:
        """Match-based coupling of a mapping's uncoupled records (a coupling job with its counts)."""
        try:
            spec = spec_for(mapping)
        except KeyError:
            return ActionOutcome(False, say("action.unknown_mapping", mapping=mapping))
        criteria = [[MatchField(bc, dv) for bc, dv in fields]] if fields else None
        try:
            bc_records = self.engine.read_all(self.engine.bc, spec.bc.entity_set)
            dv_records = self.engine.read_all(self.engine.dataverse, spec.dataverse.entity_set)
        except ConnectorError as exc:
            return ActionOutcome(False, say("action.read_failed", reason=str(exc)))
        job, counts = self.engine.couple_by_match(
            spec,
            bc_records=bc_records,
            dataverse_records=dv_records,
            trigger=self.trigger,
            criteria=criteria,
            case_sensitive=case_sensitive,
        )
        return ActionOutcome(True, say("action.matched", **counts), data={"job_id": job.id, **counts})

    def uncouple(self, ref: str, *, actor: str) -> ActionOutcome:
        """Remove the coupling of a record (an uncoupling job); the records stay as they are."""
        located = self.locator.locate(ref)
        if located.coupling is None:
            return _refusal(say("action.not_coupled", record=_located(located)))
        return self._uncouple(located.spec, located.coupling, actor=actor, label=_located(located))

    def _uncouple(self, spec: MappingSpec, coupling: Coupling, *, actor: str, label: Phrase) -> ActionOutcome:
        with session_scope(self.db) as session:
            job = self._start_job(session, spec, JobType.UNCOUPLING)
            session.add(coupling)
            uncouple(session, coupling=coupling, by=actor)
            job.uncoupled = 1
            finish_job(
                session, job=job, message=f"Uncoupled {english(label)} by {actor}.", now=self.engine.clock()
            )
        return ActionOutcome(True, say("action.uncoupled", record=label), data={"job_id": job.id})

    # ---- broken couplings ----------------------------------------------------------------------

    def restore_record(self, error_id: int, *, actor: str = SYSTEM_ACTOR) -> ActionOutcome:
        """Recreate the deleted side of a coupled record from the surviving one and keep the coupling."""
        broken = self._broken(error_id)
        if isinstance(broken, ActionOutcome):
            return broken
        error, spec, coupling, surviving, _missing = broken
        direction = (
            Direction.TO_DATAVERSE if surviving is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        )
        if not flows(spec.direction, direction):
            where = app(source_system(direction))
            return _refusal(say("action.no_flow_restore", mapping=spec.name, app=where), error)
        source_id = coupling.bc_id if surviving is System.BUSINESS_CENTRAL else coupling.dataverse_id
        result = self.engine.sync_records(
            spec.name, direction, [source_id], deletion=DeletionConflictResolution.RESTORE
        )
        if source_id not in result.succeeded:
            return self._still_failing(error, result)
        return self._resolved(error_id, actor, "Restored the deleted record", say("action.restored"))

    def delete_record(self, error_id: int, *, actor: str = SYSTEM_ACTOR) -> ActionOutcome:
        """Delete the surviving side of a coupled record whose other side was deleted, then the coupling."""
        broken = self._broken(error_id)
        if isinstance(broken, ActionOutcome):
            return broken
        error, spec, coupling, surviving, _missing = broken
        side = spec.side(surviving)
        record_id = coupling.bc_id if surviving is System.BUSINESS_CENTRAL else coupling.dataverse_id
        try:
            self.engine.store(surviving).delete(side.entity_set, record_id)
        except ConnectorError as exc:
            context = ClassifyContext(
                mapping=spec.name,
                direction=error.direction,
                source_table=side.entity_set,
                destination_table=side.entity_set,
            )
            return ActionOutcome(False, _reason(classify(exc, context=context).message), error)
        toward = Direction.TO_DATAVERSE if surviving is System.DATAVERSE else Direction.FROM_DATAVERSE
        with session_scope(self.db) as session:
            job = start_job(
                session, mapping=spec.name, direction=toward, trigger=self.trigger, now=self.engine.clock()
            )
            job.deleted = 1
            session.add(coupling)
            uncouple(session, coupling=coupling)
            finish_job(
                session,
                job=job,
                message=f"Deleted {side.name} {record_id} by {actor}.",
                now=self.engine.clock(),
            )
        deleted = say("action.deleted", record=_record(side.name, record_id))
        return self._resolved(error_id, actor, "Deleted the surviving record", deleted)

    def remove_coupling(self, error_id: int, *, actor: str = SYSTEM_ACTOR) -> ActionOutcome:
        """Remove the coupling of the record behind an error."""
        error = self._error(error_id)
        if isinstance(error, ActionOutcome):
            return error
        coupling = self._coupling_of(error)
        if coupling is None:
            return _refusal(say("action.not_coupled", record=self._source_label(error)), error)
        if error.category == Category.DELETED_RECORD:
            spec = spec_for(error.mapping)
            exists = self._both_exist(spec, coupling)
            if all(exists.values()):
                return _refusal(say("action.coupling_stays"), error)
        outcome = self._uncouple(
            spec_for(error.mapping), coupling, actor=actor, label=self._source_label(error)
        )
        return self._resolved(
            error_id, actor, "Removed the coupling", outcome.said, job_id=outcome.data["job_id"]
        )

    def couple_dependency(self, error_id: int, *, actor: str = SYSTEM_ACTOR) -> ActionOutcome:
        """Couple (by match, or create) the dependency an error names, then re-sync the error's record."""
        error = self._error(error_id)
        if isinstance(error, ActionOutcome):
            return error
        facts = error.facts or {}
        if error.category != Category.DEPENDENCY_NOT_COUPLED or not facts.get("dependency_mapping"):
            return _refusal(say("action.no_dependency", id=error_id), error)
        dep = spec_for(str(facts["dependency_mapping"]))
        dep_system = System(str(facts.get("dependency_system") or System.BUSINESS_CENTRAL.value))
        # Dataverse records are found by GUID (older entries kept it in dependency_key), BC ones by code.
        key = str(
            (facts.get("dependency_id") if dep_system is System.DATAVERSE else None)
            or facts.get("dependency_key")
            or ""
        )
        try:
            if facts.get("missing_reference"):
                # The coupling exists but its partner is gone: re-create the partner from this record.
                coupled = self._restore_one(dep, dep_system, key)
            else:
                coupled = self._couple_one(dep, dep_system, key)
        except (ConnectorError, RecordMissing) as exc:
            return ActionOutcome(False, _reason(exc), error)
        if not coupled.ok:
            return ActionOutcome(False, coupled.said, error, refused=coupled.refused)
        outcome = self.resync(error_id, actor=actor)
        outcome.said = _and(coupled.said, outcome.said)
        return outcome

    def _restore_one(self, dep: MappingSpec, system: System, key: str) -> ActionOutcome:
        """Re-create the deleted partner of a coupled dependency (e.g. currency EUR's Dataverse row)."""
        records = self._dependency_records(dep, system, key)
        side = dep.side(system)
        label = say("term.record_key", record=caption(side.entity_set), key=key)
        if not records:
            return ActionOutcome(False, say("action.not_found", record=label, app=app(system)))
        other = System.DATAVERSE if system is System.BUSINESS_CENTRAL else System.BUSINESS_CENTRAL
        direction = Direction.TO_DATAVERSE if system is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        if not flows(dep.direction, direction):
            return _refusal(
                say(
                    "action.no_flow_recreate",
                    mapping=dep.name,
                    app=app(system),
                    record=label,
                    other=app(other),
                )
            )
        result = self.engine.sync_records(
            dep.name, direction, [records[0].id], deletion=DeletionConflictResolution.RESTORE
        )
        if records[0].id not in result.succeeded:
            why = (
                _reason(result.aborted.message)
                if result.aborted is not None
                else self._latest_message(dep, system, records[0].id)
            )
            return ActionOutcome(
                False, say("action.recreate_failed", record=label, app=app(other), reason=why)
            )
        return ActionOutcome(True, say("action.recreated", record=label, app=app(other)))

    def _latest_message(self, spec: MappingSpec, system: System, record_id: str) -> Phrase:
        direction = Direction.TO_DATAVERSE if system is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        with session_scope(self.db) as session:
            latest = live_record_errors(
                session,
                mapping=spec.name,
                direction=direction,
                source_table=spec.side(system).name,
                source_ids=[record_id],
            )
        return _reason(max(latest, key=lambda e: e.last_seen_at).message) if latest else say("term.see_list")

    def _dependency_records(self, dep: MappingSpec, system: System, key: str) -> list[Record]:
        side = dep.side(system)
        store = self.engine.store(system)
        if system is System.BUSINESS_CENTRAL:
            return [r for r in self.engine.read_all(store, side.entity_set) if side.key_of(r.fields) == key]
        try:
            return [store.get(side.entity_set, key)]
        except NotFound:
            return []

    def _couple_one(self, dep: MappingSpec, system: System, key: str) -> ActionOutcome:
        side = dep.side(system)
        store = self.engine.store(system)
        if system is System.BUSINESS_CENTRAL:
            records = [
                r for r in self.engine.read_all(store, side.entity_set) if side.key_of(r.fields) == key
            ]
        else:
            try:
                records = [store.get(side.entity_set, key)]
            except NotFound:
                records = []
        label = say("term.record_key", record=caption(side.entity_set), key=key)
        if not records:
            return ActionOutcome(False, say("action.not_found", record=label, app=app(system)))
        other = System.DATAVERSE if system is System.BUSINESS_CENTRAL else System.BUSINESS_CENTRAL
        others = self.engine.read_all(self.engine.store(other), dep.side(other).entity_set)
        bc_records, dv_records = (records, others) if system is System.BUSINESS_CENTRAL else (others, records)
        job, counts = self.engine.couple_by_match(
            dep, bc_records=bc_records, dataverse_records=dv_records, trigger=self.trigger
        )
        if counts["coupled"]:
            return ActionOutcome(True, say("action.coupled_by_match", record=label))
        direction = Direction.TO_DATAVERSE if system is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        if not flows(dep.direction, direction):
            return ActionOutcome(False, say("action.no_match", record=label, app=app(other)))
        result = self.engine.sync_records(dep.name, direction, [records[0].id])
        if records[0].id not in result.succeeded:
            return ActionOutcome(False, say("action.create_dependency_failed", record=label, app=app(other)))
        return ActionOutcome(True, say("action.created_coupled", record=label, app=app(other)))

    def take_side(self, error_id: int, side: Side, *, actor: str = SYSTEM_ACTOR) -> ActionOutcome:
        """Settle an update conflict: the chosen side's values overwrite the other's."""
        error = self._error(error_id)
        if isinstance(error, ActionOutcome):
            return error
        if side not in ("business_central", "dataverse"):
            return _refusal(say("action.unknown_side", side=repr(side)), error)
        if not _is_conflict(error):
            return _refusal(say("action.not_a_conflict", id=error_id, category=str(error.category)), error)
        winner = System(side)
        coupling = self._coupling_of(error)
        if coupling is None:
            return _refusal(say("action.no_conflict", record=self._source_label(error)), error)
        direction = Direction.TO_DATAVERSE if winner is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        spec = spec_for(error.mapping)
        if not flows(spec.direction, direction):
            return ActionOutcome(False, say("action.no_flow", mapping=spec.name, app=app(winner)), error)
        source_id = coupling.bc_id if winner is System.BUSINESS_CENTRAL else coupling.dataverse_id
        result = self.engine.sync_records(spec.name, direction, [source_id], overwrite=True)
        if source_id not in result.succeeded:
            return self._still_failing(error, result)
        kept = say("action.kept", app=app(winner))
        how = (
            "Kept the Business Central values"
            if winner is System.BUSINESS_CENTRAL
            else "Kept the Dataverse values"
        )
        return self._resolved(error_id, actor, how, kept)

    # ---- helpers -------------------------------------------------------------------------------

    def _start_job(self, session: Session, spec: MappingSpec, type: JobType) -> SyncJob:
        """A coupling or uncoupling job of the mapping, started now by this door's trigger."""
        return start_job(
            session,
            mapping=spec.name,
            direction=spec.direction,
            type=type,
            trigger=self.trigger,
            now=self.engine.clock(),
        )

    def _error(self, error_id: int) -> SyncError | ActionOutcome:
        return open_error(self.db, error_id)

    def _coupling_of(self, error: SyncError) -> Coupling | None:
        if error.source_id is None:
            return None
        spec = spec_for(error.mapping)
        system = System(error.source_system)
        with session_scope(self.db) as session:
            lookup = by_bc_ids if system is System.BUSINESS_CENTRAL else by_dataverse_ids
            return lookup(session, table=spec.side(system).entity_set, ids=[error.source_id]).get(
                error.source_id
            )

    def _broken(
        self, error_id: int
    ) -> ActionOutcome | tuple[SyncError, MappingSpec, Coupling, System, System]:
        error = self._error(error_id)
        if isinstance(error, ActionOutcome):
            return error
        coupling = self._coupling_of(error)
        if coupling is None:
            return _refusal(say("action.no_deleted_partner", record=self._source_label(error)), error)
        spec = spec_for(error.mapping)
        # Read both records from the apps again: the error may be old, or its cause was not a deletion.
        exists = self._both_exist(spec, coupling)
        if all(exists.values()):
            return _refusal(say("action.both_exist"), error)
        if not any(exists.values()):
            return _refusal(say("action.both_gone"), error)
        surviving = System.BUSINESS_CENTRAL if exists[System.BUSINESS_CENTRAL] else System.DATAVERSE
        missing = System.DATAVERSE if surviving is System.BUSINESS_CENTRAL else System.BUSINESS_CENTRAL
        return error, spec, coupling, surviving, missing

    def _both_exist(self, spec: MappingSpec, coupling: Coupling) -> dict[System, bool]:
        """Whether each side of a coupling exists, read from the apps now."""
        exists = {}
        for system in (System.BUSINESS_CENTRAL, System.DATAVERSE):
            record_id = coupling.bc_id if system is System.BUSINESS_CENTRAL else coupling.dataverse_id
            exists[system] = self._exists(system, spec.side(system).entity_set, record_id)
        return exists

    def _exists(self, system: System, table: str, record_id: str) -> bool:
        try:
            self.engine.store(system).get(table, record_id)
        except NotFound:
            return False
        return True

    def _source_label(self, error: SyncError) -> Phrase:
        return _record(error.source_table, error.source_key or error.source_name or error.source_id)

    def _still_failing(self, error: SyncError, result: RecordSyncResult) -> ActionOutcome:
        if result.aborted is not None:
            return ActionOutcome(False, _reason(result.aborted.message), error)
        with session_scope(self.db) as session:
            latest = live_record_errors(
                session,
                mapping=error.mapping,
                direction=Direction(error.direction),
                source_table=error.source_table,
                source_ids=[error.source_id or ""],
            )
        newest = max(latest, key=lambda e: e.last_seen_at) if latest else error
        return ActionOutcome(
            False, say("action.still_failing", reason=newest.message), newest, {"job_id": result.job.id}
        )

    def _resolved(
        self, error_id: int, actor: str, resolution: str, said: Phrase, *, job_id: str | None = None
    ) -> ActionOutcome:
        with session_scope(self.db) as session:
            error = get_error(session, error_id=error_id)
            assert error is not None
            resolve_error(
                session, error=error, by=actor, resolution=f"{resolution} by {actor}", now=self.engine.clock()
            )
            enqueue_edit(session, error=error)
        return ActionOutcome(True, said, error, {"job_id": job_id} if job_id else {})


def outside_filter(spec: MappingSpec, *records: tuple[Record, Phrase]) -> Phrase | None:
    """Why a record cannot be coupled in this mapping (outside its table filter), or None."""
    for record, label in records:
        side = spec.side(System(record.system))
        if side.accepts is not None and not side.accepts(record.fields):
            described = side.filter_text or say("term.table_filter")
            return say("action.outside_filter", record=label, mapping=spec.name, filter=described)
    return None
