"""The sync engine: runs mappings in dependency order, incrementally or in full, and logs jobs and errors.

One SyncJob per direction run (as Business Central logs a bidirectional mapping: To then From), plus a
coupling job when a full sync couples records by match before creating anything. `find_deleted` looks for
couplings whose record was deleted (bot.sync.deleted), one job per mapping.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.connectors.errors import ConnectorError, NotFound
from bot.connectors.models import BusinessApp, Record
from bot.sync.business_apps import SYSTEM_ADMINISTRATOR, DataverseApp
from bot.sync.classify import Classification, ClassifyContext, classify
from bot.sync.conditions import AdminIntegrationUser, SeveralMatches
from bot.sync.deleted import ID_PAGE_SIZE, DeletedFinder
from bot.sync.error_recording import RecordRef, record_error
from bot.sync.fieldmap import MappingSpec
from bot.sync.lease import MappingBusy, MappingLease
from bot.sync.mappings import seed_default_mappings, spec_for
from bot.sync.matching import match_records
from bot.sync.order import dependency_order
from bot.sync.pairs import couple_pair
from bot.sync.partners import several_matches
from bot.sync.passes import DirectionPass, PassAborted, PassSettings, SyncedVersion
from bot.sync.project import destination_system, source_system
from bot.sync.rates import ExchangeRates
from bot.sync.retry import retry_ids
from storage.couplings import (
    by_bc_ids,
    by_dataverse_ids,
    clear_skipped,
    coupled_ids,
    uncoupled_ids,
)
from storage.db import session_scope
from storage.errors import live_job_errors, live_record_errors, resolve_error
from storage.jobs import earliest_interrupted_start, finish_job, start_job
from storage.mappings import advance_watermarks, get_mapping, list_mappings, record_run
from storage.models import (
    Category,
    DeletionConflictResolution,
    Direction,
    JobType,
    Mapping,
    SyncJob,
    System,
    Trigger,
)
from storage.outbox import enqueue_edit
from storage.types import utcnow

Progress = Callable[[str, int, int | None], None]

DEFAULT_PAGE_SIZE = 1000
WATERMARK_OVERLAP = timedelta(seconds=1)  # Business Central re-reads modifiedon > watermark - 999 ms
RETRY_GET_LIMIT = 50  # beyond this many records to re-try, one full read is cheaper than a GET each
SYSTEM_ACTOR = "sync-errors"
INTERRUPTED = "Interrupted"
INITIAL_FULL_SYNC = "Initial full synchronization"
# Setup problems gone once the preflight passes (sign-in, the integration user's roles, administration mode).
PREFLIGHT_CATEGORIES = (Category.CREDENTIALS, Category.ADMIN_INTEGRATION_USER, Category.ADMIN_MODE)
# Job-level failures that stop every mapping of a run, not only the one that hit them.
RUN_WIDE_CATEGORIES = frozenset({Category.CREDENTIALS, Category.ADMIN_MODE, Category.THROTTLED})
RESOLVED_BY_TRIGGER = {
    Trigger.SCHEDULE: "Synchronized by the scheduled run",
    Trigger.USER: "Synchronized by a run someone asked for",
    Trigger.CLI: "Synchronized by a run from the terminal",
}


class _RunStopped(Exception):
    """A job-level failure ended the run; the job holding its error is attached."""

    def __init__(self, job: SyncJob, category: Category | None = None) -> None:
        super().__init__(job.message)
        self.job = job
        self.run_wide = category is None or category in RUN_WIDE_CATEGORIES


@dataclass
class RunReport:
    """What a run did: its jobs, and the mappings it left alone because another run held them."""

    jobs: list[SyncJob] = field(default_factory=list)
    busy: list[MappingBusy] = field(default_factory=list)


@dataclass
class RecordSyncResult:
    """Outcome of syncing chosen records: the job and which source ids succeeded, failed or were not found."""

    job: SyncJob
    succeeded: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    aborted: Classification | None = None


def _chunks(records: list[Record], size: int) -> Iterator[list[Record]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


class SyncEngine:
    """Runs the Business Central <-> Dataverse synchronization and records jobs, couplings and errors."""

    def __init__(
        self,
        *,
        db: Engine,
        bc: BusinessApp,
        dataverse: DataverseApp,
        channel: str | None,
        clock: Callable[[], datetime] = utcnow,
        page_size: int = DEFAULT_PAGE_SIZE,
        scan_page_size: int = ID_PAGE_SIZE,
    ) -> None:
        self.db = db
        self.bc = bc
        self.dataverse = dataverse
        self.channel = channel
        self.clock = clock
        self.page_size = page_size
        self.scan_page_size = scan_page_size  # pages of ids only (find_deleted)

    # ---- public --------------------------------------------------------------------------------

    def store(self, system: System) -> BusinessApp:
        """The connector of one system."""
        return self.bc if system is System.BUSINESS_CENTRAL else self.dataverse

    def mappings(self, names: Sequence[str] | None = None) -> list[Mapping]:
        """The mappings a run takes, in dependency order; unknown names raise ValueError listing the known."""
        with session_scope(self.db) as session:
            seed_default_mappings(session)
            every = list_mappings(session)
        known = {m.name: m for m in every}
        if not names:
            chosen = [m for m in every if m.enabled and not m.paused]
        else:
            wanted = [n.strip().upper() for n in names]
            unknown = [n for n in wanted if n not in known]
            if unknown:
                raise ValueError(
                    f"Unknown mapping {', '.join(unknown)}; known mappings: {', '.join(sorted(known))}."
                )
            chosen = [known[n] for n in dict.fromkeys(wanted)]
        return dependency_order(chosen)

    def run(
        self,
        mapping_names: Sequence[str] | None = None,
        *,
        full: bool = False,
        trigger: Trigger = Trigger.CLI,
        progress: Progress | None = None,
    ) -> list[SyncJob]:
        """Run the named mappings (all enabled, unpaused when None) after a preflight; return the jobs."""
        return self.run_report(mapping_names, full=full, trigger=trigger, progress=progress).jobs

    def run_report(
        self,
        mapping_names: Sequence[str] | None = None,
        *,
        full: bool = False,
        trigger: Trigger = Trigger.CLI,
        progress: Progress | None = None,
    ) -> RunReport:
        """Run mappings one at a time each; a failed mapping skips only the mappings that depend on it."""
        report = RunReport()
        mappings = self.mappings(mapping_names)
        if not mappings:
            return report
        try:
            user_id = self._preflight(mappings[0], trigger)
        except _RunStopped as stopped:
            report.jobs.append(stopped.job)
            return report
        self._resolve_job_errors(
            None, PREFLIGHT_CATEGORIES, "The sign-in and the integration user's check passed"
        )
        failed: set[str] = set()
        for mapping in mappings:
            waiting_for = [name for name in mapping.dependency_names() if name in failed]
            if waiting_for:
                report.jobs.append(self._dependency_failed(mapping, trigger, waiting_for))
                failed.add(mapping.name)
                continue
            try:
                with MappingLease(self.db, mapping.name, trigger=trigger, clock=self.clock):
                    report.jobs.extend(
                        self._run_mapping(
                            mapping, full=full, trigger=trigger, user_id=user_id, progress=progress
                        )
                    )
            except MappingBusy as busy:
                report.busy.append(busy)
            except _RunStopped as stopped:
                report.jobs.append(stopped.job)
                failed.add(mapping.name)
                if stopped.run_wide:
                    break
        return report

    def _dependency_failed(self, mapping: Mapping, trigger: Trigger, waiting_for: list[str]) -> SyncJob:
        """A job-log line for a mapping left out because a mapping it depends on failed in this run."""
        with session_scope(self.db) as session:
            job = start_job(
                session, mapping=mapping.name, direction=mapping.direction, trigger=trigger, now=self.clock()
            )
            message = f"Skipped: {', '.join(waiting_for)} failed in this run and must synchronize first."
            finish_job(session, job=job, message=message, now=self.clock())
        return job

    def _resolve_job_errors(
        self, mapping: str | None, categories: Sequence[str] | None, resolution: str
    ) -> int:
        """Resolve the live job-level errors whose cause a run got past; queue the edit of each message."""
        with session_scope(self.db) as session:
            errors = live_job_errors(
                session, mapping=mapping, categories=tuple(categories) if categories is not None else None
            )
            for error in errors:
                resolve_error(session, error=error, by=SYSTEM_ACTOR, resolution=resolution, now=self.clock())
                enqueue_edit(session, error=error)
        return len(errors)

    def find_deleted(self, mapping_names: Sequence[str] | None = None, *, trigger: Trigger) -> list[SyncJob]:
        """Find for Deleted: settle couplings whose record is gone on one side or both; return the jobs."""
        mappings = self.mappings(mapping_names)
        if not mappings:
            return []
        try:
            self._preflight(mappings[0], trigger)
        except _RunStopped as stopped:
            return [stopped.job]
        finder = DeletedFinder(self)
        jobs: list[SyncJob] = []
        for mapping in mappings:
            job, stopped_run = finder.run_mapping(mapping, trigger=trigger)
            jobs.append(job)
            if stopped_run:
                break
        return jobs

    def sync_records(
        self,
        mapping: str,
        direction: Direction,
        source_ids: Sequence[str],
        *,
        trigger: Trigger = Trigger.USER,
        overwrite: bool = False,
        deletion: DeletionConflictResolution | None = None,
        create_new: bool = False,
    ) -> RecordSyncResult:
        """Sync chosen records now in one direction, unchanged or skipped or not (Synchronize Now / Retry).

        An uncoupled record is coupled to its one match, or created when nothing matches; with `create_new`
        (the coupling dialog's Create New) it is created without looking for a match.
        """
        spec = spec_for(mapping)
        src_system, dst_system = source_system(direction), destination_system(direction)
        src, dst = self.store(src_system), self.store(dst_system)
        src_side, dst_side = spec.side(src_system), spec.side(dst_system)
        with session_scope(self.db) as session:
            row = get_mapping(session, name=mapping)
            if row is None:
                seed_default_mappings(session)
                row = get_mapping(session, name=mapping)
            assert row is not None
            if deletion is not None:
                row = row.model_copy(update={"deletion_conflict": deletion})
            lookup = by_bc_ids if src_system is System.BUSINESS_CENTRAL else by_dataverse_ids
            couplings = lookup(session, table=src_side.entity_set, ids=source_ids)
            clear_skipped(session, coupling_ids=[c.id for c in couplings.values() if c.id is not None])
            job = start_job(session, mapping=row.name, direction=direction, trigger=trigger, now=self.clock())
        result = RecordSyncResult(job=job)
        records: list[Record] = []
        known: dict[str, Record] = {}
        try:
            for record_id in source_ids:
                try:
                    records.append(src.get(src_side.entity_set, record_id))
                except NotFound:
                    result.missing.add(record_id)
            for coupling in couplings.values():
                dest_id = coupling.dataverse_id if dst_system is System.DATAVERSE else coupling.bc_id
                try:
                    known[dest_id] = dst.get(dst_side.entity_set, dest_id)
                except NotFound:
                    pass
            settings = PassSettings(
                spec=spec,
                mapping=row,
                direction=direction,
                job=job,
                known_destination=known,
                destination_complete=True,
                force=True,
                overwrite=overwrite,
                create_uncoupled=True,
                match_first=not create_new,
            )
            step = self.direction_pass(settings, src, dst)
            step.run_page(records)
            result.succeeded, result.failed = step.succeeded, step.failed
            self.resolve_synced(spec, direction, step.succeeded, resolution=RESOLVED_BY_TRIGGER[trigger])
            message = ""
        except PassAborted as aborted:
            result.aborted = aborted.classification
            message = aborted.classification.message
        except ConnectorError as exc:
            classification = self._job_level(exc, spec, direction)
            self._record_job_error(job, spec, direction, classification)
            result.aborted = classification
            message = classification.message
        with session_scope(self.db) as session:
            session.add(job)
            finish_job(session, job=job, message=message, now=self.clock())
        return result

    def couple_by_match(
        self,
        spec: MappingSpec,
        *,
        bc_records: list[Record],
        dataverse_records: list[Record],
        trigger: Trigger,
        criteria: Sequence[Sequence[object]] | None = None,
        case_sensitive: bool = False,
        several: dict[str, SeveralMatches] | None = None,
        note: str = "",
    ) -> tuple[SyncJob, dict[str, int]]:
        """Couple uncoupled records that match (a coupling job); return the job and counts by outcome.

        Records a person uncoupled take no part; `several` collects, by source id, the records that match
        more than one record (nothing is created for them).
        """
        with session_scope(self.db) as session:
            existing_bc, existing_dv = coupled_ids(session, mapping=spec.name)
            left_bc = uncoupled_ids(
                session,
                system=System.BUSINESS_CENTRAL,
                table=spec.bc.entity_set,
                ids=[r.id for r in bc_records],
            )
            left_dv = uncoupled_ids(
                session,
                system=System.DATAVERSE,
                table=spec.dataverse.entity_set,
                ids=[r.id for r in dataverse_records],
            )
            job = start_job(
                session,
                mapping=spec.name,
                direction=spec.direction,
                type=JobType.COUPLING,
                trigger=trigger,
                now=self.clock(),
            )
        coupled_bc = existing_bc | left_bc
        coupled_dv = existing_dv | left_dv
        outcome = match_records(
            spec,
            bc_records=bc_records,
            dataverse_records=dataverse_records,
            coupled_bc=coupled_bc,
            coupled_dataverse=coupled_dv,
            criteria=criteria,  # type: ignore[arg-type]
            case_sensitive=case_sensitive,
        )
        if several is not None and outcome.several_matches:
            from_dataverse = spec.direction is Direction.FROM_DATAVERSE
            targets, taken, target_store = (
                (bc_records, coupled_bc, self.bc)
                if from_dataverse
                else (dataverse_records, coupled_dv, self.dataverse)
            )
            target_table = (spec.bc if from_dataverse else spec.dataverse).entity_set
            for record in outcome.several_matches:
                several[record.id] = several_matches(
                    spec, record, targets, taken, lambda r: target_store.record_url(target_table, r)
                )
        with session_scope(self.db) as session:
            for bc_record, dv_record in outcome.pairs:
                # The side the mapping syncs from counts as changed, so the first run carries its values over.
                kept = (
                    System.BUSINESS_CENTRAL
                    if spec.direction is Direction.FROM_DATAVERSE
                    else System.DATAVERSE
                )
                couple_pair(
                    session, spec=spec, bc_record=bc_record, dataverse_record=dv_record, synced_as_is=(kept,)
                )
            counts = {
                "coupled": len(outcome.pairs),
                "no_match": len(outcome.no_match),
                "several_matches": len(outcome.several_matches),
                "already_coupled": len(outcome.already_coupled),
            }
            job.coupled = counts["coupled"]
            job.failed = counts["several_matches"] + counts["already_coupled"]
            job.skipped = counts["no_match"]
            session.add(job)
            message = (
                f"{note + ': ' if note else ''}Coupled {counts['coupled']}; no match {counts['no_match']}; "
                f"several matches {counts['several_matches']}; "
                f"match already coupled {counts['already_coupled']}."
            )
            finish_job(session, job=job, message=message, now=self.clock())
        return job, counts

    def read_all(self, store: BusinessApp, table: str) -> list[Record]:
        """Every record of a table, page by page."""
        return [record for page in store.iter_changed(table, page_size=self.page_size) for record in page]

    # ---- preflight -----------------------------------------------------------------------------

    def _preflight(self, first: Mapping, trigger: Trigger) -> str:
        """WhoAmI + roles before any write; a refusal or a System Administrator ends the run, one error."""
        spec = spec_for(first.name)
        direction = Direction(first.direction)
        one_way = Direction.TO_DATAVERSE if direction is Direction.BIDIRECTIONAL else direction
        try:
            me = self.dataverse.who_am_i()
            user = self.dataverse.get_user(me.user_id)
        except ConnectorError as exc:
            classification = self._job_level(exc, spec, one_way)
            raise _RunStopped(self._failed_job(first, one_way, trigger, classification)) from None
        if any(role.strip().lower() == SYSTEM_ADMINISTRATOR.lower() for role in user.roles):
            condition = AdminIntegrationUser(
                user_name=user.fullname, user_id=user.id, roles=tuple(user.roles)
            )
            classification = self._job_level(condition, spec, one_way)
            source = RecordRef(system=System.DATAVERSE, table="systemuser", name=user.fullname)
            raise _RunStopped(self._failed_job(first, one_way, trigger, classification, source=source))
        return me.user_id

    def _job_level(self, failure: object, spec: MappingSpec, direction: Direction) -> Classification:
        src, dst = spec.side(source_system(direction)), spec.side(destination_system(direction))
        context = ClassifyContext(
            mapping=spec.name,
            direction=direction.value,
            source_table=src.entity_set,
            destination_table=dst.entity_set,
        )
        classification = classify(failure, context=context)  # type: ignore[arg-type]
        return dataclasses.replace(classification, job_level=True)

    def _failed_job(
        self,
        mapping: Mapping,
        direction: Direction,
        trigger: Trigger,
        classification: Classification,
        *,
        source: RecordRef | None = None,
    ) -> SyncJob:
        spec = spec_for(mapping.name)
        with session_scope(self.db) as session:
            job = start_job(
                session, mapping=mapping.name, direction=direction, trigger=trigger, now=self.clock()
            )
        self._record_job_error(job, spec, direction, classification, source=source)
        with session_scope(self.db) as session:
            session.add(job)
            finish_job(session, job=job, message=classification.message, now=self.clock())
            record_run(session, name=mapping.name, at=self.clock())
        return job

    def record_job_failure(
        self, job: SyncJob, spec: MappingSpec, direction: Direction, failure: object
    ) -> Classification:
        """Classify a failure that ended a job and record it as the job's one job-level error."""
        classification = self._job_level(failure, spec, direction)
        self._record_job_error(job, spec, direction, classification)
        return classification

    def _record_job_error(
        self,
        job: SyncJob,
        spec: MappingSpec,
        direction: Direction,
        classification: Classification,
        *,
        source: RecordRef | None = None,
    ) -> None:
        src_sys, dst_sys = source_system(direction), destination_system(direction)
        with session_scope(self.db) as session:
            session.add(job)
            job.failed += 1
            record_error(
                session,
                job=job,
                mapping=spec.name,
                direction=direction,
                classification=classification,
                source=source or RecordRef(system=src_sys, table=spec.side(src_sys).name),
                destination=RecordRef(system=dst_sys, table=spec.side(dst_sys).name),
                coupling=None,
                channel=self.channel,
                now=self.clock(),
            )
            job.message = classification.message[:250]

    # ---- one mapping ---------------------------------------------------------------------------

    def _run_mapping(
        self, mapping: Mapping, *, full: bool, trigger: Trigger, user_id: str, progress: Progress | None
    ) -> list[SyncJob]:
        spec = spec_for(mapping.name)
        direction = Direction(mapping.direction)
        jobs: list[SyncJob] = []
        bc_all: list[Record] | None = None
        dv_all: list[Record] | None = None
        first = Direction.FROM_DATAVERSE if direction is Direction.FROM_DATAVERSE else Direction.TO_DATAVERSE
        # A mapping's first run on a store is its initial full synchronization: match-based coupling
        # first, then create only what has no match (as Business Central's Run Full Synchronization).
        initial = not full and mapping.bc_watermark is None and mapping.dataverse_watermark is None
        full = full or initial
        note = INITIAL_FULL_SYNC if initial else ""
        several: dict[str, SeveralMatches] = {}
        # A full sync reads its source again, page by page, after the match: holding every source record
        # through the pass would double what the process takes. The way back of a bidirectional mapping
        # reads the Business Central records again as its destination, when it has records to bring back.
        stream_source = full
        source_count: int | None = None

        def prepare() -> None:
            nonlocal bc_all, dv_all, source_count
            if full:
                bc_all = self.read_all(self.bc, spec.bc.entity_set)
                dv_all = self.read_all(self.dataverse, spec.dataverse.entity_set)
                job, _ = self.couple_by_match(
                    spec,
                    bc_records=bc_all,
                    dataverse_records=dv_all,
                    trigger=trigger,
                    several=several,
                    note=note,
                )
                jobs.append(job)
                if stream_source:
                    if first is Direction.TO_DATAVERSE:
                        source_count, bc_all = len(bc_all), None
                    else:
                        source_count, dv_all = len(dv_all), None
            elif direction is Direction.BIDIRECTIONAL:
                # The Dataverse changes are read once: for conflict checks going out, then as the way back.
                dv_all = self._read_since(
                    self.dataverse, spec.dataverse.entity_set, mapping.dataverse_watermark
                )

        first_pass = self._direction_run(
            mapping,
            spec,
            first,
            trigger=trigger,
            user_id=user_id,
            progress=progress,
            full=full,
            prepare=prepare,
            source=lambda: bc_all if first is Direction.TO_DATAVERSE else dv_all,
            source_count=lambda: source_count,
            known=lambda: dv_all if first is Direction.TO_DATAVERSE else bc_all,
            keep_seen=direction is Direction.BIDIRECTIONAL and not full,
            several=several,
            note=note,
        )
        jobs.append(first_pass.s.job)

        def way_back_destination() -> list[Record]:
            if bc_all is not None:
                return bc_all
            if stream_source:
                return self.read_all(self.bc, spec.bc.entity_set) if dv_all else []
            return list(first_pass.seen.values())

        if direction is Direction.BIDIRECTIONAL:
            second = self._direction_run(
                mapping,
                spec,
                Direction.FROM_DATAVERSE,
                trigger=trigger,
                user_id=user_id,
                progress=progress,
                full=full,
                source=lambda: dv_all if dv_all is not None else [],
                known=way_back_destination,
                exclude=first_pass.decided,
                superseded=first_pass.rewritten,
                several=several,
                note=note,
            )
            jobs.append(second.s.job)
        with session_scope(self.db) as session:
            record_run(session, name=mapping.name, at=self.clock())
        self._resolve_job_errors(mapping.name, None, RESOLVED_BY_TRIGGER[trigger])
        return jobs

    def _read_since(self, store: BusinessApp, table: str, watermark: datetime | None) -> list[Record]:
        since = watermark - WATERMARK_OVERLAP if watermark is not None else None
        return [r for page in store.iter_changed(table, since=since, page_size=self.page_size) for r in page]

    def direction_pass(self, settings: PassSettings, src: BusinessApp, dst: BusinessApp) -> DirectionPass:
        """A pass of one mapping in one direction with this engine's store, channel and clock."""
        rates = ExchangeRates(self.bc) if settings.spec.needs_exchange_rate else None
        return DirectionPass(
            db=self.db,
            src=src,
            dst=dst,
            settings=settings,
            channel=self.channel,
            clock=self.clock,
            rates=rates,
        )

    def _direction_run(
        self,
        mapping: Mapping,
        spec: MappingSpec,
        direction: Direction,
        *,
        trigger: Trigger,
        user_id: str,
        progress: Progress | None,
        full: bool,
        source: Callable[[], list[Record] | None],
        known: Callable[[], list[Record] | None],
        source_count: Callable[[], int | None] = lambda: None,
        prepare: Callable[[], None] | None = None,
        keep_seen: bool = False,
        exclude: set[str] | None = None,
        superseded: dict[str, SyncedVersion] | None = None,
        several: dict[str, SeveralMatches] | None = None,
        note: str = "",
    ) -> DirectionPass:
        src_system = source_system(direction)
        src, dst = self.store(src_system), self.store(destination_system(direction))
        with session_scope(self.db) as session:
            job = start_job(
                session, mapping=mapping.name, direction=direction, trigger=trigger, now=self.clock()
            )
            job.message = note
        settings = PassSettings(
            spec=spec,
            mapping=mapping,
            direction=direction,
            job=job,
            integration_user_id=user_id,
            destination_complete=full,
            exclude=exclude or set(),
            superseded=superseded or {},
            create_uncoupled=full or not mapping.sync_only_coupled,
            ambiguous=several if several is not None else {},
        )
        step = self.direction_pass(settings, src, dst)
        try:
            settings.recovery = self._recovery(mapping, direction, job, dst, spec)
            if prepare is not None:
                prepare()
            settings.known_destination = {r.id: r for r in known() or []}
            if full:
                step._targets = list(settings.known_destination.values())
            held = source()
            total = len(held) if held is not None else source_count()
            pages: Iterable[list[Record]]
            if held is not None:
                pages = _chunks(held, self.page_size)
            else:
                watermark = (
                    mapping.bc_watermark
                    if src_system is System.BUSINESS_CENTRAL
                    else mapping.dataverse_watermark
                )
                since = watermark - WATERMARK_OVERLAP if watermark is not None and not full else None
                pages = src.iter_changed(
                    spec.side(src_system).entity_set, since=since, page_size=self.page_size
                )
            seen_ids: set[str] = set()

            def noted(pages: Iterable[list[Record]]) -> Iterator[list[Record]]:
                for page in pages:
                    seen_ids.update(r.id for r in page)
                    yield page

            def report() -> None:
                if progress is not None:
                    progress(mapping.name, step.processed, total)

            step.run_pages(noted(pages), keep_seen=keep_seen, after_page=report)
            if not full:
                self._retry(step, spec, direction, src, seen_ids, keep_seen=keep_seen)
        except PassAborted as aborted:
            raise _RunStopped(
                self._finish(job, aborted.classification.message, failed_run=mapping.name),
                aborted.classification.category,
            ) from None
        except ConnectorError as exc:
            classification = self._job_level(exc, spec, direction)
            self._record_job_error(job, spec, direction, classification)
            raise _RunStopped(
                self._finish(job, classification.message, failed_run=mapping.name), classification.category
            ) from None
        except BaseException as exc:
            self._finish(job, f"{INTERRUPTED}: {type(exc).__name__}: {exc}")
            raise
        with session_scope(self.db) as session:
            if src_system is System.BUSINESS_CENTRAL:
                advance_watermarks(session, name=mapping.name, bc=step.max_seen)
            else:
                advance_watermarks(session, name=mapping.name, dataverse=step.max_seen)
        self._finish(job, "")
        self.resolve_synced(spec, direction, step.succeeded, resolution=RESOLVED_BY_TRIGGER[trigger])
        return step

    def _recovery(
        self, mapping: Mapping, direction: Direction, job: SyncJob, dst: BusinessApp, spec: MappingSpec
    ) -> list[Record] | None:
        """After an interrupted job: the destination rows written since it started (adopt, not duplicate)."""
        with session_scope(self.db) as session:
            started = earliest_interrupted_start(
                session, mapping=mapping.name, direction=direction, before=job, interrupted=INTERRUPTED
            )
        if started is None:
            return None
        table = spec.side(destination_system(direction)).entity_set
        since = started - WATERMARK_OVERLAP
        return [r for page in dst.iter_changed(table, since=since, page_size=self.page_size) for r in page]

    def _retry(
        self,
        step: DirectionPass,
        spec: MappingSpec,
        direction: Direction,
        src: BusinessApp,
        seen_ids: set[str],
        *,
        keep_seen: bool,
    ) -> None:
        """Re-try failed records that did not change (not in the pages), then resolve what now synced."""
        with session_scope(self.db) as session:
            wanted = [i for i in retry_ids(session, spec=spec, direction=direction) if i not in seen_ids]
        table = spec.side(source_system(direction)).entity_set
        records: list[Record] = []
        if len(wanted) > RETRY_GET_LIMIT:
            wanted_set = set(wanted)
            records = [r for r in self.read_all(src, table) if r.id in wanted_set]
        else:
            for record_id in wanted:
                try:
                    records.append(src.get(table, record_id))
                except NotFound:
                    continue
        max_seen = step.max_seen
        for page in _chunks(records, self.page_size):
            step.run_page(page, keep_seen=keep_seen)
        step.max_seen = max_seen  # re-tried records say nothing about what changed since the watermark
        self.resolve_synced(
            spec, direction, step.succeeded & set(wanted), resolution="Synchronized on a later run"
        )

    def resolve_synced(
        self,
        spec: MappingSpec,
        direction: Direction,
        source_ids: set[str],
        *,
        resolution: str,
        by: str = SYSTEM_ACTOR,
    ) -> int:
        """Resolve the live errors of records that now synced; queue the Slack edit of each posted one."""
        if not source_ids:
            return 0
        side = spec.side(source_system(direction))
        with session_scope(self.db) as session:
            errors = live_record_errors(
                session,
                mapping=spec.name,
                direction=direction,
                source_table=side.name,
                source_ids=sorted(source_ids),
            )
            for error in errors:
                resolve_error(session, error=error, by=by, resolution=resolution, now=self.clock())
                enqueue_edit(session, error=error)
        return len(errors)

    def _finish(self, job: SyncJob, message: str, *, failed_run: str | None = None) -> SyncJob:
        with session_scope(self.db) as session:
            session.add(job)
            finish_job(session, job=job, message=message or job.message, now=self.clock())
            if failed_run is not None:
                record_run(session, name=failed_run, at=self.clock())
        return job
