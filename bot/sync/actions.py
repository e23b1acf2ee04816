"""What people do about sync errors: re-sync, couple, uncouple, restore, delete, take a side.

Each action returns an ActionOutcome; on success the error is resolved (by whom, how) and, in the same
transaction, its Slack message is queued for an edit. A failed action changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.connectors.errors import ConnectorError, NotFound
from bot.connectors.models import Record
from bot.sync.classify import ClassifyContext, classify
from bot.sync.engine import SYSTEM_ACTOR, RecordSyncResult, SyncEngine
from bot.sync.fieldmap import MappingSpec, MatchField, flows
from bot.sync.locate import Locator, RecordMissing
from bot.sync.mappings import spec_for
from bot.sync.pairs import couple_pair
from bot.sync.project import destination_system, source_system
from bot.sync.retry import live_record_errors
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
from storage.errors import get_error, resolve_error
from storage.jobs import finish_job, start_job
from storage.models import (
    Category,
    Coupling,
    DeletionConflictResolution,
    Direction,
    ErrorStatus,
    JobType,
    SyncError,
    SyncResult,
    System,
    Trigger,
)
from storage.outbox import enqueue_edit

SyncChoice = Literal["none", "bc", "dataverse"]
Side = Literal["business_central", "dataverse"]


@dataclass
class ActionOutcome:
    """The result of an action, in words, with the error it concerned and anything worth showing."""

    ok: bool
    message: str
    error: SyncError | None = None
    data: dict[str, Any] = field(default_factory=dict)
    refused: bool = False  # the fix does not apply to the error's state: nothing was tried or changed


def _refusal(message: str, error: SyncError | None = None) -> ActionOutcome:
    """A fix that does not apply: one line saying why and what would; nothing changed."""
    return ActionOutcome(False, message, error, refused=True)


def _system_label(system: System) -> str:
    return "Business Central" if system is System.BUSINESS_CENTRAL else "Dataverse"


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
                    False, f"The re-run of {error.mapping} failed: {failed[0].message}", error
                )
            return self._resolved(error_id, actor, f"Re-ran {error.mapping}", "Re-synchronized.")
        result = self.engine.sync_records(error.mapping, Direction(error.direction), [error.source_id])
        if error.source_id in result.missing:
            return ActionOutcome(
                False, f"The source record {self._source_label(error)} no longer exists.", error
            )
        if error.source_id in result.succeeded:
            return self._resolved(
                error_id, actor, "Re-synchronized", "Re-synchronized.", job_id=result.job.id
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
        message = f"Re-synchronized {succeeded} of {attempted} records; {failed} failed."
        return ActionOutcome(failed == 0, message, data={"attempted": attempted, "succeeded": succeeded})

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
            return ActionOutcome(False, "Give the Business Central record first, then the Dataverse row.")
        if bc_at.spec.name != dv_at.spec.name:
            return ActionOutcome(
                False,
                f"{bc_at.label} and {dv_at.label} are not in the same mapping "
                f"({bc_at.spec.name}, {dv_at.spec.name}).",
            )
        spec = bc_at.spec
        try:
            bc_record = self.locator.record(bc_at)
            dv_record = self.locator.record(dv_at)
        except RecordMissing as missing:
            return ActionOutcome(False, str(missing))
        with session_scope(self.db) as session:
            taken_bc = get_by_bc(session, table=spec.bc.entity_set, record_id=bc_record.id)
            taken_dv = get_by_dataverse(session, table=spec.dataverse.entity_set, record_id=dv_record.id)
        bc_label = f"{spec.bc.name} {spec.bc.key_of(bc_record.fields) or bc_record.id}"
        outside = outside_filter(spec, (bc_record, bc_label), (dv_record, dv_at.label))
        if outside is not None:
            return _refusal(outside)
        if taken_bc is not None and taken_bc.dataverse_id == dv_record.id:
            if sync != "none":  # the same pair again: keep the coupling, sync the side that was asked for
                return self._sync_after_coupling(
                    spec,
                    sync,
                    bc_record.id,
                    dv_record.id,
                    f"{bc_label} and {dv_at.label} were already coupled.",
                    {"coupling_id": taken_bc.id},
                )
            return _refusal(
                f"{bc_label} and {dv_at.label} are already coupled to each other; nothing changed (pending "
                "changes stay and sync on the next run). To take one side's values now, add --sync bc or "
                "--sync dataverse."
            )
        if taken_dv is not None and taken_dv.bc_id != bc_record.id:
            other = f"{spec.bc.name} {taken_dv.bc_key or taken_dv.bc_id}"
            return _refusal(
                f"Cannot couple {bc_label} to this Dataverse record, because the Dataverse record is already "
                f"coupled to {other}. Remove that coupling first (uncouple)."
            )
        if taken_bc is not None and taken_bc.dataverse_id != dv_record.id:
            other = f"{spec.dataverse.name} {taken_bc.dataverse_id}"
            return _refusal(
                f"Cannot couple {bc_label} to {dv_at.label}, because {bc_label} is already coupled "
                f"to {other}. Remove that coupling first (uncouple)."
            )
        with session_scope(self.db) as session:
            job = start_job(
                session,
                mapping=spec.name,
                direction=spec.direction,
                type=JobType.COUPLING,
                trigger=self.trigger,
                now=self.engine.clock(),
            )
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
            finish_job(session, job=job, message=f"Coupled {bc_label} by {actor}.", now=self.engine.clock())
            coupling_id = coupling.id
        message = f"Coupled {bc_label} to {spec.dataverse.name} {dv_record.id}."
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
        message: str,
        data: dict[str, Any],
    ) -> ActionOutcome:
        """Synchronize After Coupling: the chosen side's values overwrite the other's."""
        direction = Direction.TO_DATAVERSE if sync == "bc" else Direction.FROM_DATAVERSE
        source_id = bc_id if sync == "bc" else dataverse_id
        result = self.engine.sync_records(spec.name, direction, [source_id], overwrite=True)
        data["sync_job_id"] = result.job.id
        if source_id not in result.succeeded:
            return ActionOutcome(False, message + " The synchronization after coupling failed.", data=data)
        message += f" Synchronized with the {_system_label(source_system(direction))} data."
        return ActionOutcome(True, message, data=data)

    def couple_create(self, ref: str, *, actor: str) -> ActionOutcome:
        """Create New: create the partner of one uncoupled record on the other side and couple it."""
        located = self.locator.locate(ref)
        spec = located.spec
        if located.coupling is not None:
            return _refusal(f"{located.label} is already coupled; uncouple it first to create a new partner.")
        try:
            record = self.locator.record(located)
        except RecordMissing as missing:
            return _refusal(str(missing))
        label = f"{located.label}"
        outside = outside_filter(spec, (record, label))
        if outside is not None:
            return _refusal(outside)
        direction = (
            Direction.TO_DATAVERSE if located.system is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        )
        if not flows(spec.direction, direction):
            where = _system_label(located.system)
            return _refusal(
                f"{spec.name} does not synchronize from {where}, so it cannot create a partner there."
            )
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
            why = result.aborted.message if result.aborted is not None else "see `sync-errors list`"
            return ActionOutcome(
                False, f"Creating the partner of {label} failed: {why}", data={"job_id": result.job.id}
            )
        other = _system_label(destination_system(direction))
        return ActionOutcome(
            True,
            f"Created the partner of {label} in {other} and coupled them.",
            data={"job_id": result.job.id},
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
            return ActionOutcome(False, f"Unknown mapping {mapping}.")
        criteria = [[MatchField(bc, dv) for bc, dv in fields]] if fields else None
        try:
            bc_records = self.engine.read_all(self.engine.bc, spec.bc.entity_set)
            dv_records = self.engine.read_all(self.engine.dataverse, spec.dataverse.entity_set)
        except ConnectorError as exc:
            return ActionOutcome(False, f"Reading the records failed: {exc}")
        job, counts = self.engine.couple_by_match(
            spec,
            bc_records=bc_records,
            dataverse_records=dv_records,
            trigger=self.trigger,
            criteria=criteria,
            case_sensitive=case_sensitive,
        )
        return ActionOutcome(True, job.message, data={"job_id": job.id, **counts})

    def uncouple(self, ref: str, *, actor: str) -> ActionOutcome:
        """Remove the coupling of a record (an uncoupling job); the records stay as they are."""
        located = self.locator.locate(ref)
        if located.coupling is None:
            return _refusal(f"{located.label} is not coupled; there is no coupling to remove.")
        return self._uncouple(located.spec, located.coupling, actor=actor, label=located.label)

    def _uncouple(self, spec: MappingSpec, coupling: Coupling, *, actor: str, label: str) -> ActionOutcome:
        with session_scope(self.db) as session:
            job = start_job(
                session,
                mapping=spec.name,
                direction=spec.direction,
                type=JobType.UNCOUPLING,
                trigger=self.trigger,
                now=self.engine.clock(),
            )
            session.add(coupling)
            uncouple(session, coupling=coupling, by=actor)
            job.uncoupled = 1
            finish_job(session, job=job, message=f"Uncoupled {label} by {actor}.", now=self.engine.clock())
        return ActionOutcome(True, f"Uncoupled {label}.", data={"job_id": job.id})

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
            where = _system_label(source_system(direction))
            return _refusal(
                f"{spec.name} does not synchronize from {where}, so the record cannot be restored from "
                "there; delete the surviving record or remove the coupling instead.",
                error,
            )
        source_id = coupling.bc_id if surviving is System.BUSINESS_CENTRAL else coupling.dataverse_id
        result = self.engine.sync_records(
            spec.name, direction, [source_id], deletion=DeletionConflictResolution.RESTORE
        )
        if source_id not in result.succeeded:
            return self._still_failing(error, result)
        return self._resolved(error_id, actor, "Restored the deleted record", "Restored the deleted record.")

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
            return ActionOutcome(False, classify(exc, context=context).message, error)
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
        return self._resolved(
            error_id, actor, "Deleted the surviving record", f"Deleted {side.name} {record_id}."
        )

    def remove_coupling(self, error_id: int, *, actor: str = SYSTEM_ACTOR) -> ActionOutcome:
        """Remove the coupling of the record behind an error."""
        error = self._error(error_id)
        if isinstance(error, ActionOutcome):
            return error
        coupling = self._coupling_of(error)
        if coupling is None:
            return _refusal(
                f"{self._source_label(error)} is not coupled; there is no coupling to remove.", error
            )
        if error.category == Category.DELETED_RECORD:
            spec = spec_for(error.mapping)
            exists = self._both_exist(spec, coupling)
            if all(exists.values()):
                return _refusal(
                    "Both coupled records exist (checked just now in Business Central and Dataverse), so the "
                    "coupling is not broken and stays; Re-sync the record instead.",
                    error,
                )
        outcome = self._uncouple(
            spec_for(error.mapping), coupling, actor=actor, label=self._source_label(error)
        )
        return self._resolved(
            error_id, actor, "Removed the coupling", outcome.message, job_id=outcome.data["job_id"]
        )

    def couple_dependency(self, error_id: int, *, actor: str = SYSTEM_ACTOR) -> ActionOutcome:
        """Couple (by match, or create) the dependency an error names, then re-sync the error's record."""
        error = self._error(error_id)
        if isinstance(error, ActionOutcome):
            return error
        facts = error.facts or {}
        if error.category != Category.DEPENDENCY_NOT_COUPLED or not facts.get("dependency_mapping"):
            return _refusal(
                f"Error #{error_id} does not name a dependency to couple; Re-sync it or open its details.",
                error,
            )
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
            return ActionOutcome(False, str(exc), error)
        if not coupled.ok:
            return ActionOutcome(False, coupled.message, error, refused=coupled.refused)
        outcome = self.resync(error_id, actor=actor)
        outcome.message = f"{coupled.message} {outcome.message}"
        return outcome

    def _restore_one(self, dep: MappingSpec, system: System, key: str) -> ActionOutcome:
        """Re-create the deleted partner of a coupled dependency (e.g. currency EUR's Dataverse row)."""
        records = self._dependency_records(dep, system, key)
        side = dep.side(system)
        if not records:
            return ActionOutcome(False, f"{side.caption} {key} does not exist in {_system_label(system)}.")
        other = System.DATAVERSE if system is System.BUSINESS_CENTRAL else System.BUSINESS_CENTRAL
        direction = Direction.TO_DATAVERSE if system is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        if not flows(dep.direction, direction):
            return _refusal(
                f"{dep.name} does not synchronize from {_system_label(system)}, so {side.caption} {key} "
                f"cannot be re-created in {_system_label(other)} from here; create it there and couple it."
            )
        result = self.engine.sync_records(
            dep.name, direction, [records[0].id], deletion=DeletionConflictResolution.RESTORE
        )
        if records[0].id not in result.succeeded:
            why = (
                result.aborted.message
                if result.aborted is not None
                else self._latest_message(dep, system, records[0].id)
            )
            return ActionOutcome(
                False, f"Re-creating {side.caption} {key} in {_system_label(other)} failed: {why}"
            )
        return ActionOutcome(True, f"Re-created {side.caption} {key} in {_system_label(other)}.")

    def _latest_message(self, spec: MappingSpec, system: System, record_id: str) -> str:
        direction = Direction.TO_DATAVERSE if system is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        with session_scope(self.db) as session:
            latest = live_record_errors(
                session,
                mapping=spec.name,
                direction=direction,
                source_table=spec.side(system).name,
                source_ids=[record_id],
            )
        return max(latest, key=lambda e: e.last_seen_at).message if latest else "see `sync-errors list`"

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
        if not records:
            return ActionOutcome(False, f"{side.caption} {key} does not exist in {_system_label(system)}.")
        other = System.DATAVERSE if system is System.BUSINESS_CENTRAL else System.BUSINESS_CENTRAL
        others = self.engine.read_all(self.engine.store(other), dep.side(other).entity_set)
        bc_records, dv_records = (records, others) if system is System.BUSINESS_CENTRAL else (others, records)
        job, counts = self.engine.couple_by_match(
            dep, bc_records=bc_records, dataverse_records=dv_records, trigger=self.trigger
        )
        if counts["coupled"]:
            return ActionOutcome(True, f"Coupled {side.caption} {key} by match.")
        direction = Direction.TO_DATAVERSE if system is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        if not flows(dep.direction, direction):
            return ActionOutcome(False, f"No match for {side.caption} {key} in {_system_label(other)}.")
        result = self.engine.sync_records(dep.name, direction, [records[0].id])
        if records[0].id not in result.succeeded:
            return ActionOutcome(False, f"Creating {side.caption} {key} in {_system_label(other)} failed.")
        return ActionOutcome(True, f"Created and coupled {side.caption} {key} in {_system_label(other)}.")

    def take_side(self, error_id: int, side: Side, *, actor: str = SYSTEM_ACTOR) -> ActionOutcome:
        """Settle an update conflict: the chosen side's values overwrite the other's."""
        error = self._error(error_id)
        if isinstance(error, ActionOutcome):
            return error
        if side not in ("business_central", "dataverse"):
            return _refusal(f"Unknown side {side!r}; use business_central or dataverse.", error)
        if error.category != Category.UPDATE_CONFLICT or (error.facts or {}).get("stale_etag"):
            return _refusal(
                f"Keeping one side's values applies only to an update conflict (changed in both apps); "
                f"error #{error_id} is {error.category}, so nothing changed. Re-sync it instead.",
                error,
            )
        winner = System(side)
        coupling = self._coupling_of(error)
        if coupling is None:
            return _refusal(
                f"{self._source_label(error)} is not coupled, so there is no conflict to settle.", error
            )
        direction = Direction.TO_DATAVERSE if winner is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        spec = spec_for(error.mapping)
        if not flows(spec.direction, direction):
            return ActionOutcome(
                False, f"{spec.name} does not synchronize from {_system_label(winner)}.", error
            )
        source_id = coupling.bc_id if winner is System.BUSINESS_CENTRAL else coupling.dataverse_id
        result = self.engine.sync_records(spec.name, direction, [source_id], overwrite=True)
        if source_id not in result.succeeded:
            return self._still_failing(error, result)
        label = _system_label(winner)
        return self._resolved(error_id, actor, f"Kept the {label} values", f"Kept the {label} values.")

    # ---- helpers -------------------------------------------------------------------------------

    def _error(self, error_id: int) -> SyncError | ActionOutcome:
        with session_scope(self.db) as session:
            error = get_error(session, error_id=error_id)
        if error is None:
            return _refusal(f"There is no error #{error_id} (it may have been purged); see `list`.")
        if error.status == ErrorStatus.RESOLVED:
            when = error.resolved_at.strftime("%Y-%m-%d %H:%M UTC") if error.resolved_at else "earlier"
            return _refusal(
                f"Error #{error_id} was already resolved by {error.resolved_by} at {when}; nothing changed. "
                "If the record fails again, its error reopens.",
                error,
            )
        return error

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
            return _refusal(
                f"{self._source_label(error)} is not coupled, so there is no deleted partner to restore or "
                "delete; Re-sync it instead.",
                error,
            )
        spec = spec_for(error.mapping)
        # Read both records from the apps again: the error may be old, or its cause was not a deletion.
        exists = self._both_exist(spec, coupling)
        if all(exists.values()):
            return _refusal(
                "Both coupled records exist (checked just now in Business Central and Dataverse); nothing to "
                "restore or delete. Re-sync the record instead.",
                error,
            )
        if not any(exists.values()):
            return _refusal("Both coupled records are gone; remove the coupling instead.", error)
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

    def _source_label(self, error: SyncError) -> str:
        return f"{error.source_table} {error.source_key or error.source_name or error.source_id}"

    def _still_failing(self, error: SyncError, result: RecordSyncResult) -> ActionOutcome:
        if result.aborted is not None:
            return ActionOutcome(False, result.aborted.message, error)
        with session_scope(self.db) as session:
            latest = live_record_errors(
                session,
                mapping=error.mapping,
                direction=Direction(error.direction),
                source_table=error.source_table,
                source_ids=[error.source_id or ""],
            )
        newest = max(latest, key=lambda e: e.last_seen_at) if latest else error
        return ActionOutcome(False, f"Still failing: {newest.message}", newest, {"job_id": result.job.id})

    def _resolved(
        self, error_id: int, actor: str, resolution: str, message: str, *, job_id: str | None = None
    ) -> ActionOutcome:
        with session_scope(self.db) as session:
            error = get_error(session, error_id=error_id)
            assert error is not None
            resolve_error(
                session, error=error, by=actor, resolution=f"{resolution} by {actor}", now=self.engine.clock()
            )
            enqueue_edit(session, error=error)
        return ActionOutcome(True, message, error, {"job_id": job_id} if job_id else {})


def outside_filter(spec: MappingSpec, *records: tuple[Record, str]) -> str | None:
    """Why a record cannot be coupled in this mapping (outside its table filter), or None."""
    for record, label in records:
        side = spec.side(System(record.system))
        if side.accepts is not None and not side.accepts(record.fields):
            described = side.filter_text or "its table filter"
            return f"{label} is outside {spec.name}'s filter ({described}): it cannot be coupled there."
    return None
