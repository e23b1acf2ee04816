"""Find for Deleted: couplings whose record was deleted on one side (or both), found by reading only ids.

Business Central notices a deleted coupled record only when the surviving record changes; its Coupled Data
Synchronization Errors page offers "Find for Deleted" to look for them. Here each mapping's tables are read
with nothing but the id selected (a request per few thousand records) and compared with its couplings:
- gone on one side: what a sync does when it meets the deletion — the mapping's Resolve Deletion Conflicts
  (restore the record, or remove the coupling), else a "coupled to a deleted record" error in the error log;
- gone on both sides: the coupling is removed.
One job-log entry per mapping: deleted = couplings found broken, inserted = restored, uncoupled, failed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlmodel import Session

from bot.connectors.errors import ConnectorError, NotFound
from bot.connectors.models import BusinessApp, Record
from bot.sync.fieldmap import MappingSpec, flows
from bot.sync.mappings import spec_for
from bot.sync.passes import PassAborted, PassSettings
from bot.sync.runner import SyncRunner
from storage.couplings import by_coupling_ids, coupling_id_rows, uncouple
from storage.db import session_scope
from storage.jobs import finish_job, start_job
from storage.models import (
    Coupling,
    DeletionConflictResolution,
    Direction,
    JobType,
    Mapping,
    SyncJob,
    System,
    Trigger,
)

ID_PAGE_SIZE = 5000  # Dataverse's largest page; Business Central allows more
GET_LIMIT = 50  # beyond this many surviving records to read, one streamed read of the table is cheaper
IN_CHUNK = 500
INTERRUPTED = "Interrupted"
MESSAGE_PREFIX = "Find deleted: "  # every job that ran to its end says so; a job-level failure does not
RESTORED = "Restored the deleted record (find deleted)"
UNCOUPLED = "Removed the coupling of a deleted record (find deleted)"
BOTH_GONE = "Both records were deleted; removed the coupling (find deleted)"


@dataclass(frozen=True)
class CoupledIds:
    """The ids of one coupling, as read before the scan."""

    coupling_id: int
    bc_id: str
    dataverse_id: str

    def id_on(self, system: System) -> str:
        """The record id on one side."""
        return self.bc_id if system is System.BUSINESS_CENTRAL else self.dataverse_id


@dataclass
class Findings:
    """Couplings whose record is gone: on the Business Central side, the Dataverse side, or both."""

    bc_gone: list[CoupledIds] = field(default_factory=list)
    dataverse_gone: list[CoupledIds] = field(default_factory=list)
    both_gone: list[CoupledIds] = field(default_factory=list)

    def gone_on(self, system: System) -> list[CoupledIds]:
        """The couplings whose record on `system` is gone while the other side's still exists."""
        return self.bc_gone if system is System.BUSINESS_CENTRAL else self.dataverse_gone

    @property
    def total(self) -> int:
        """How many couplings are broken."""
        return len(self.bc_gone) + len(self.dataverse_gone) + len(self.both_gone)


def coupled_ids(session: Session, *, mapping: str) -> list[CoupledIds]:
    """The ids of every coupling of a mapping (three columns, not whole rows)."""
    return [CoupledIds(*row) for row in coupling_id_rows(session, mapping=mapping)]


def existing_ids(store: BusinessApp, table: str, *, page_size: int) -> set[str]:
    """The ids (lower case) of every record of a table, read page by page with only the id selected."""
    ids: set[str] = set()
    # An empty $select list: the connector adds the table's id (and the modified-on it always reads).
    for page in store.iter_changed(table, select=[], page_size=page_size):
        ids.update(record.id.lower() for record in page)
    return ids


def compare(couplings: Iterable[CoupledIds], bc_ids: set[str], dataverse_ids: set[str]) -> Findings:
    """Sort the couplings whose record is missing from the ids read on either side."""
    found = Findings()
    for coupling in couplings:
        bc_there = coupling.bc_id.lower() in bc_ids
        dv_there = coupling.dataverse_id.lower() in dataverse_ids
        if bc_there and dv_there:
            continue
        if not bc_there and not dv_there:
            found.both_gone.append(coupling)
        elif bc_there:
            found.dataverse_gone.append(coupling)
        else:
            found.bc_gone.append(coupling)
    return found


def _unfiltered(spec: MappingSpec) -> MappingSpec:
    """The spec without table filters: a coupled record whose partner is gone counts even if filtered out."""
    return dataclasses.replace(
        spec,
        bc=dataclasses.replace(spec.bc, accepts=None),
        dataverse=dataclasses.replace(spec.dataverse, accepts=None),
    )


def _chunks(values: list[CoupledIds], size: int) -> Iterator[list[CoupledIds]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _other(system: System) -> System:
    return System.DATAVERSE if system is System.BUSINESS_CENTRAL else System.BUSINESS_CENTRAL


@dataclass
class _Tally:
    checked: int = 0
    restored: int = 0
    uncoupled: int = 0
    both_gone: int = 0
    errors: int = 0


class DeletedFinder:
    """Looks for a mapping's couplings whose record was deleted and settles them as a sync would."""

    def __init__(self, engine: SyncRunner) -> None:
        self.engine = engine
        self.db = engine.db
        self.page_size = engine.scan_page_size

    def run_mapping(self, mapping: Mapping, *, trigger: Trigger) -> tuple[SyncJob, bool]:
        """Scan one mapping (one job); return the job and whether a job-level failure ended the run."""
        engine = self.engine
        spec = spec_for(mapping.name)
        direction = Direction(mapping.direction)
        with session_scope(self.db) as session:
            job = start_job(
                session, mapping=mapping.name, direction=direction, trigger=trigger, now=engine.clock()
            )
        tally = _Tally()
        try:
            found = self._scan(spec, tally)
            job.deleted = found.total
            self._remove(spec, found.both_gone, tally, both=True)
            for deleted_side in (System.DATAVERSE, System.BUSINESS_CENTRAL):
                self._settle(mapping, spec, job, _other(deleted_side), found.gone_on(deleted_side), tally)
        except PassAborted as aborted:
            return self._finish(job, tally, failure=aborted.classification.message), True
        except ConnectorError as exc:
            one_way = Direction.TO_DATAVERSE if direction is Direction.BIDIRECTIONAL else direction
            classification = engine.record_job_failure(job, spec, one_way, exc)
            return self._finish(job, tally, failure=classification.message), True
        except BaseException as exc:
            self._finish(job, tally, failure=f"{INTERRUPTED}: {type(exc).__name__}: {exc}")
            raise
        return self._finish(job, tally), False

    # ---- scan ----------------------------------------------------------------------------------

    def _scan(self, spec: MappingSpec, tally: _Tally) -> Findings:
        """Couplings first, then the ids: a coupling made during the scan is not taken for a deletion."""
        with session_scope(self.db) as session:
            couplings = coupled_ids(session, mapping=spec.name)
        tally.checked = len(couplings)
        if not couplings:
            return Findings()
        bc_ids = existing_ids(self.engine.bc, spec.bc.entity_set, page_size=self.page_size)
        dv_ids = existing_ids(self.engine.dataverse, spec.dataverse.entity_set, page_size=self.page_size)
        return compare(couplings, bc_ids, dv_ids)

    def _current(self, session: Session, items: list[CoupledIds]) -> list[Coupling]:
        """The couplings still as they were at the scan (not removed or re-pointed by a sync meanwhile)."""
        wanted = {item.coupling_id: item for item in items}
        current: list[Coupling] = []
        for coupling in by_coupling_ids(session, ids=wanted):
            item = wanted[int(coupling.id or 0)]
            if (coupling.bc_id, coupling.dataverse_id) == (item.bc_id, item.dataverse_id):
                current.append(coupling)
        return current

    # ---- settle --------------------------------------------------------------------------------

    def _remove(self, spec: MappingSpec, items: list[CoupledIds], tally: _Tally, *, both: bool) -> None:
        """Uncouple; the errors of the records behind these couplings are resolved (messages edited)."""
        if not items:
            return
        removed: list[CoupledIds] = []
        with session_scope(self.db) as session:
            for coupling in self._current(session, items):
                removed.append(CoupledIds(int(coupling.id or 0), coupling.bc_id, coupling.dataverse_id))
                # Removed by the mapping's resolution: the survivor must not get a new partner either.
                uncouple(session, coupling=coupling, by=None if both else "Delete coupling")
        tally.uncoupled += len(removed)
        if both:
            tally.both_gone += len(removed)
        resolution = BOTH_GONE if both else UNCOUPLED
        for direction, system in (
            (Direction.TO_DATAVERSE, System.BUSINESS_CENTRAL),
            (Direction.FROM_DATAVERSE, System.DATAVERSE),
        ):
            ids = {item.id_on(system) for item in removed}
            self.engine.resolve_synced(spec, direction, ids, resolution=resolution)

    def _settle(
        self,
        mapping: Mapping,
        spec: MappingSpec,
        job: SyncJob,
        surviving: System,
        items: list[CoupledIds],
        tally: _Tally,
    ) -> None:
        """Do what a sync from the surviving side does when it meets the deletion."""
        if not items:
            return
        resolution = DeletionConflictResolution(mapping.deletion_conflict)
        if resolution is DeletionConflictResolution.REMOVE_COUPLING:
            self._remove(spec, items, tally, both=False)
            return
        direction = (
            Direction.TO_DATAVERSE if surviving is System.BUSINESS_CENTRAL else Direction.FROM_DATAVERSE
        )
        restorable = flows(Direction(mapping.direction), direction)
        if resolution is DeletionConflictResolution.RESTORE and not restorable:
            resolution = DeletionConflictResolution.NONE  # nothing to restore from: a decision for people
        with session_scope(self.db) as session:
            current = [
                CoupledIds(int(c.id or 0), c.bc_id, c.dataverse_id) for c in self._current(session, items)
            ]
        side = spec.side(surviving)
        records, vanished = self._surviving(self.engine.store(surviving), side.entity_set, surviving, current)
        self._remove(spec, vanished, tally, both=True)  # deleted meanwhile on the surviving side too
        if not records:
            return
        settings = PassSettings(
            spec=_unfiltered(spec),
            mapping=mapping.model_copy(update={"deletion_conflict": resolution}),
            direction=direction,
            job=job,
            destination_complete=True,  # every destination record named here is known to be gone
            force=True,  # skipped couplings too, as Find for Deleted looks at every coupling
        )
        src, dst = self.engine.store(surviving), self.engine.store(_other(surviving))
        step = self.engine.direction_pass(settings, src, dst)
        failed_before = job.failed
        for start in range(0, len(records), self.engine.page_size):
            step.run_page(records[start : start + self.engine.page_size])
        tally.restored += len(step.succeeded)
        tally.errors += job.failed - failed_before
        self.engine.resolve_synced(spec, direction, step.succeeded, resolution=RESTORED)

    def _surviving(
        self, store: BusinessApp, table: str, system: System, items: list[CoupledIds]
    ) -> tuple[list[Record], list[CoupledIds]]:
        """The surviving records, whole (a GET each, or one streamed read when many), and who vanished."""
        by_id = {item.id_on(system).lower(): item for item in items}
        records: dict[str, Record] = {}
        if len(by_id) <= GET_LIMIT:
            for item in items:
                try:
                    record = store.get(table, item.id_on(system))
                except NotFound:
                    continue
                records[record.id.lower()] = record
        else:
            for page in store.iter_changed(table, page_size=self.engine.page_size):
                records.update((r.id.lower(), r) for r in page if r.id.lower() in by_id)
        vanished = [item for record_id, item in by_id.items() if record_id not in records]
        return list(records.values()), vanished

    # ---- job -----------------------------------------------------------------------------------

    def _finish(self, job: SyncJob, tally: _Tally, *, failure: str | None = None) -> SyncJob:
        job.uncoupled = tally.uncoupled
        wrote = job.inserted + job.failed
        if tally.uncoupled and not wrote and failure is None:
            job.type = JobType.UNCOUPLING
        message = failure if failure is not None else _message(job, tally)
        with session_scope(self.db) as session:
            session.add(job)
            finish_job(session, job=job, message=message, now=self.engine.clock())
        return job


def _message(job: SyncJob, tally: _Tally) -> str:
    """What the job found and did, in one line."""
    if not job.deleted:
        return f"{MESSAGE_PREFIX}no deleted record among {tally.checked} couplings."
    parts = [f"{MESSAGE_PREFIX}{job.deleted} of {tally.checked} couplings point at a deleted record"]
    done = []
    if tally.restored:
        done.append(f"restored {tally.restored}")
    if tally.uncoupled:
        both = f" ({tally.both_gone} deleted on both sides)" if tally.both_gone else ""
        done.append(f"uncoupled {tally.uncoupled}{both}")
    if tally.errors:
        done.append(f"{tally.errors} need a decision (restore, delete or remove the coupling)")
    return parts[0] + ("; " + ", ".join(done) if done else "") + "."
