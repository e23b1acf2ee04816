"""One direction of one mapping: decide per record, write a page in one batch, commit it at once."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.connectors.errors import (
    ConcurrencyConflict,
    ConnectionFailed,
    ConnectorError,
    NotFound,
    ServerError,
    Throttled,
    Timeout,
)
from bot.connectors.models import BatchOperation, BatchResult, BusinessApp, ContactRelation, Record
from bot.sync.business_apps import ContactRelations
from bot.sync.classify import Classification, ClassifyContext, classify
from bot.sync.conditions import (
    DeletedRecord,
    EngineCondition,
    MissingExchangeRate,
    SeveralMatches,
    UpdateConflict,
)
from bot.sync.error_recording import RecordRef, record_error
from bot.sync.fieldmap import MappingSpec
from bot.sync.lookups import ResolvedPage, resolve_lookups
from bot.sync.matching import match_records
from bot.sync.pairs import couple_pair
from bot.sync.partners import PartnerSearch, find_partners
from bot.sync.project import LookupValue, destination_system, differences, source_system, write_body
from bot.sync.rates import ExchangeRates
from bot.sync.references import AppReferences
from storage.couplings import (
    PendingCoupling,
    add_coupling,
    add_pending_couplings,
    assign,
    by_bc_ids,
    by_dataverse_ids,
    mark_synced,
    reset_sync_state,
    uncouple,
)
from storage.db import session_scope
from storage.models import (
    Coupling,
    DeletionConflictResolution,
    Direction,
    Mapping,
    SyncJob,
    SyncResult,
    System,
    UpdateConflictResolution,
)

Failure = EngineCondition | ConnectorError

# A create answered with one of these may or may not have been committed: its pending coupling stays, and
# the next attempt looks the record up by the identity chosen before sending.
OUTCOME_UNKNOWN = (ServerError, Timeout, ConnectionFailed)


class PassAborted(Exception):
    """A setup problem (sign-in, throttling, ...) ended the job; one job-level error is recorded."""

    def __init__(self, classification: Classification) -> None:
        super().__init__(classification.message)
        self.classification = classification


@dataclass(frozen=True)
class SyncedVersion:
    """One side's record as of a coupling's last sync: its ETag and modified-on."""

    etag: str | None
    modified_at: datetime | None


@dataclass
class PassSettings:
    """What one direction of one mapping's run works with."""

    spec: MappingSpec
    mapping: Mapping
    direction: Direction  # TO_DATAVERSE or FROM_DATAVERSE
    job: SyncJob
    integration_user_id: str | None = None
    known_destination: dict[str, Record] = field(default_factory=dict)  # destination records at hand, by id
    destination_complete: bool = False  # known_destination holds every destination record (full sync)
    force: bool = False  # re-sync: also unchanged and skipped records
    overwrite: bool = False  # take a side: no update-conflict check
    exclude: set[str] = field(default_factory=set)  # source ids already decided by the other direction
    recovery: list[Record] | None = (
        None  # destination rows written by an interrupted job, to adopt, not duplicate
    )
    # Source ids the other direction rewrote in this run, with the version stored before: the copies read
    # earlier are older than that write, so they are judged against what was synced before the run.
    superseded: dict[str, SyncedVersion] = field(default_factory=dict)
    # Uncoupled records may get a partner (matched, or created when nothing matches): the mapping does not
    # "Synch. Only Coupled Records", or this is a full synchronization, a re-sync or a restore.
    create_uncoupled: bool = False
    match_first: bool = True  # False: create without looking for a match (Create New, on purpose)
    ambiguous: dict[str, SeveralMatches] = field(default_factory=dict)  # several matches found before
    # Every destination record, to look for partners in (None: read once when an uncoupled record needs it).
    match_targets: list[Record] | None = None


@dataclass
class _Plan:
    record: Record
    coupling: Coupling | None
    outcome: str  # insert, modify, restore, unchanged, touch, skipped, defer, uncouple, failed
    dest: Record | None = None
    dest_id: str | None = None
    op: BatchOperation | None = None
    failure: Failure | None = None
    result: BatchResult | None = None


@dataclass
class _Page:
    """One page decided: its plans, the lookups resolved for it, its source ids, its writes once sent."""

    plans: list[_Plan]
    resolved: ResolvedPage
    ids: frozenset[str]
    sent: Future[list[BatchResult]] | None = None


class DirectionPass:
    """Runs pages of source records of one mapping in one direction and keeps the job's counters."""

    def __init__(
        self,
        *,
        db: Engine,
        src: BusinessApp,
        dst: BusinessApp,
        settings: PassSettings,
        channel: str | None,
        clock: Callable[[], datetime],
        rates: ExchangeRates | None = None,
    ) -> None:
        self.db = db
        self.src = src
        self.dst = dst
        self.s = settings
        self.channel = channel
        self.clock = clock
        self.rates = rates
        self.src_system = source_system(settings.direction)
        self.dst_system = destination_system(settings.direction)
        self.src_side = settings.spec.side(self.src_system)
        self.dst_side = settings.spec.side(self.dst_system)
        self.max_seen: datetime | None = None
        self.seen: dict[str, Record] = {}
        self.decided: set[str] = set()  # destination ids whose conflict this pass settled
        self.rewritten: dict[str, SyncedVersion] = {}  # destination ids modified, with the version before
        self.succeeded: set[str] = set()
        self.failed: set[str] = set()
        self.processed = 0
        self._targets: list[Record] | None = settings.match_targets
        self._contact_relations: list[ContactRelation] | None = None
        bc, dataverse = (src, dst) if self.src_system is System.BUSINESS_CENTRAL else (dst, src)
        self.references = AppReferences(bc=bc, dataverse=dataverse)

    # ---- per page ------------------------------------------------------------------------------

    def run_page(self, records: list[Record], *, keep_seen: bool = False) -> None:
        """Decide, write and commit one page; raises PassAborted on a job-level failure."""
        page = self._prepare(records, keep_seen=keep_seen)
        if page is not None:
            self._reserve(page.plans)
            self._finish(page)

    def run_pages(
        self,
        pages: Iterable[list[Record]],
        *,
        keep_seen: bool = False,
        after_page: Callable[[], None] | None = None,
    ) -> None:
        """Run pages in order; the next page is read and decided while the previous page's writes are out.

        Only the requests overlap: every decision, reservation and commit stays on this thread, in page
        order. A page's creates are reserved (pending couplings) only after the page before it committed,
        so a job-level failure there leaves nothing reserved that was never sent. A page holding a record
        of the page in flight waits for it (the writes to one record stay in order).
        """
        if not self._may_overlap():
            for records in pages:
                self.run_page(records, keep_seen=keep_seen)
                if after_page is not None:
                    after_page()
            return
        in_flight: _Page | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-writes") as sender:
            try:
                for records in pages:
                    if in_flight is not None and not in_flight.ids.isdisjoint(r.id for r in records):
                        current, in_flight = in_flight, None
                        self._finish(current)
                    page = self._prepare(records, keep_seen=keep_seen)
                    if in_flight is not None:
                        current, in_flight = in_flight, None
                        self._finish(current)
                    if page is not None:
                        self._reserve(page.plans)
                        self._send(page, sender)
                        in_flight = page
                    if after_page is not None:
                        after_page()
            except BaseException:
                if in_flight is not None:
                    current, in_flight = in_flight, None
                    self._finish(current)  # what was sent is committed before the failure goes up
                raise
            if in_flight is not None:
                self._finish(in_flight)

    def _may_overlap(self) -> bool:
        """Pages overlap when the destination's client takes requests from several threads, and no lookup
        of this mapping points at its own records (a later page may need an earlier page's couplings)."""
        own = any(lookup.target == self.s.spec.name for lookup in self.s.spec.lookups)
        return bool(getattr(self.dst, "thread_safe", False)) and not own

    def _prepare(self, records: list[Record], *, keep_seen: bool) -> _Page | None:
        """Read what a page needs and decide each record; nothing is written to the destination yet."""
        for record in records:
            if self.max_seen is None or record.modified_at > self.max_seen:
                self.max_seen = record.modified_at
            if keep_seen:
                self.seen[record.id] = record
        records = [r for r in records if self._in_scope(r)]
        self.processed += len(records)
        if not records:
            return None
        with session_scope(self.db) as session:
            couplings = self._couplings(session, [r.id for r in records])
            if self.s.recovery:
                couplings.update(self._adopt(session, [r for r in records if r.id not in couplings]))
        uncoupled = [r for r in records if r.id not in couplings and r.id not in self.s.ambiguous]
        searching = bool(uncoupled) and self.s.create_uncoupled and self.s.match_first
        relations = self._relations()
        targets = self._match_targets() if searching else []
        with session_scope(self.db) as session:
            search = PartnerSearch()
            if searching:
                search = find_partners(
                    session,
                    spec=self.s.spec,
                    direction=self.s.direction,
                    records=uncoupled,
                    targets=targets,
                    url_of=lambda r: self.dst.record_url(self.dst_side.entity_set, r),
                )
                couplings.update(search.coupled)
                self.s.job.coupled += len(search.coupled)
                by_id = {t.id: t for t in targets}
                for coupling in search.coupled.values():
                    partner = by_id.get(self._dest_id(coupling))
                    if partner is not None:
                        self.s.known_destination[partner.id] = partner
            resolved = resolve_lookups(
                session, spec=self.s.spec, direction=self.s.direction, records=records, relations=relations
            )
        self._find_pending([c for c in couplings.values() if c.pending])
        plans = [self._decide(record, couplings.get(record.id), resolved, search) for record in records]
        return _Page(plans=plans, resolved=resolved, ids=frozenset(r.id for r in records))

    def _send(self, page: _Page, sender: ThreadPoolExecutor) -> None:
        """Start the page's first `$batch` round on the sender thread."""
        operations = [p.op for p in page.plans if p.op is not None]
        if operations:
            page.sent = sender.submit(self.dst.batch, operations)

    def _finish(self, page: _Page) -> None:
        """Wait for the page's writes (sending them now if they were not sent), then commit the page."""
        try:
            self._write(page)
        except ConnectorError as exc:
            self.s.job.failed += 1
            self._abort(self._classify(exc, None))
        self._commit(page.plans)

    def _in_scope(self, record: Record) -> bool:
        if record.id in self.s.exclude:
            return False
        accepts = self.src_side.accepts
        if accepts is not None and not accepts(record.fields):
            return False
        # Changes made by the integration user itself are not synced back, as Business Central does.
        user = self.s.integration_user_id
        return not (user and record.modified_by and record.modified_by.lower() == user.lower())

    def _relations(self) -> list[ContactRelation] | None:
        """Business Central's business relations (read once per pass) when a lookup goes through them."""
        if not any(lookup.via_relation for lookup in self.s.spec.lookups):
            return None
        if self._contact_relations is None:
            bc = self.src if self.src_system is System.BUSINESS_CENTRAL else self.dst
            self._contact_relations = bc.contact_relations() if isinstance(bc, ContactRelations) else []
        return self._contact_relations

    def _match_targets(self) -> list[Record]:
        """Every destination record, read once per pass: where partners of uncoupled records are sought."""
        if self._targets is None:
            table = self.dst_side.entity_set
            self._targets = [r for page in self.dst.iter_changed(table) for r in page]
            for target in self._targets:
                self.s.known_destination.setdefault(target.id, target)
        return self._targets

    def _find_pending(self, pending: list[Coupling]) -> None:
        """Read the records whose create was sent but never confirmed: there (adopt) or not (create)."""
        if self.s.destination_complete:
            return
        wanted = [d for d in (self._dest_id(c) for c in pending) if d not in self.s.known_destination]
        get_many = getattr(self.dst, "get_many", None)
        if len(wanted) > 1 and callable(get_many):
            asked = {dest_id.lower(): dest_id for dest_id in wanted}
            for record in get_many(self.dst_side.entity_set, wanted):  # one request per hundred ids
                self.s.known_destination[asked.get(record.id.lower(), record.id)] = record
            return
        for dest_id in wanted:
            try:
                self.s.known_destination[dest_id] = self.dst.get(self.dst_side.entity_set, dest_id)
            except NotFound:
                continue

    def _reserve(self, plans: list[_Plan]) -> None:
        """Commit each create's chosen identity as a pending coupling before the create is sent."""
        if self.dst_system is not System.DATAVERSE:  # Business Central picks its own ids: matching finds them
            return
        reserving = [
            p for p in plans if p.outcome in ("insert", "restore") and p.dest_id and p.op is not None
        ]
        if not reserving:
            return
        spec = self.s.spec
        new = [plan for plan in reserving if plan.coupling is None]
        with session_scope(self.db) as session:
            for plan in reserving:
                if plan.coupling is not None:
                    session.add(plan.coupling)
                    plan.coupling.dataverse_id = str(plan.dest_id)
                    plan.coupling.pending = True
            session.flush()
            added = add_pending_couplings(
                session,
                (
                    PendingCoupling(
                        mapping=spec.name,
                        bc_table=spec.bc.entity_set,
                        bc_id=plan.record.id,
                        dataverse_table=spec.dataverse.entity_set,
                        dataverse_id=str(plan.dest_id),
                        bc_key=spec.bc.key_of(plan.record.fields),
                        name=self.src_side.name_of(plan.record.fields),
                    )
                    for plan in new
                ),
            )
            for plan, coupling in zip(new, added, strict=True):
                plan.coupling = coupling

    def _create_op(self, record: Record, body: dict[str, object]) -> tuple[BatchOperation, str | None]:
        """A create; for Dataverse with the primary key chosen here, so a lost answer can be looked up."""
        dest_id: str | None = None
        if self.dst_system is System.DATAVERSE:
            dest_id = str(uuid.uuid4())
            body = {self.dst_side.id_field: dest_id, **body}
        return BatchOperation("POST", self.dst_side.entity_set, ref=record.id, body=body), dest_id

    def _couplings(self, session: Session, ids: list[str]) -> dict[str, Coupling]:
        if self.src_system is System.BUSINESS_CENTRAL:
            return by_bc_ids(session, table=self.s.spec.bc.entity_set, ids=ids)
        found = by_dataverse_ids(session, table=self.s.spec.dataverse.entity_set, ids=ids)
        return found

    def _adopt(self, session: Session, uncoupled: list[Record]) -> dict[str, Coupling]:
        """Couple records to the rows an interrupted job already created for them (not re-created)."""
        spec = self.s.spec
        recovery = self.s.recovery or []
        dst_taken = (by_dataverse_ids if self.dst_system is System.DATAVERSE else by_bc_ids)(
            session, table=self.dst_side.entity_set, ids=[r.id for r in recovery]
        )
        bc_records, dv_records = (
            (uncoupled, recovery) if self.src_system is System.BUSINESS_CENTRAL else (recovery, uncoupled)
        )
        taken = set(dst_taken)
        outcome = match_records(
            dataclasses.replace(spec, direction=self.s.direction),
            bc_records=bc_records,
            dataverse_records=dv_records,
            coupled_bc=taken if self.dst_system is System.BUSINESS_CENTRAL else set(),
            coupled_dataverse=taken if self.dst_system is System.DATAVERSE else set(),
        )
        adopted: dict[str, Coupling] = {}
        for bc_record, dv_record in outcome.pairs:
            coupling = couple_pair(session, spec=spec, bc_record=bc_record, dataverse_record=dv_record)
            dest = dv_record if self.dst_system is System.DATAVERSE else bc_record
            self.s.known_destination[dest.id] = dest
            adopted[bc_record.id if self.src_system is System.BUSINESS_CENTRAL else dv_record.id] = coupling
        return adopted

    # ---- decisions -----------------------------------------------------------------------------

    def _decide(
        self,
        record: Record,
        coupling: Coupling | None,
        resolved: ResolvedPage,
        search: PartnerSearch | None = None,
    ) -> _Plan:
        s = self.s
        lookups = resolved.values.get(record.id, [])
        if coupling is None:
            if not s.create_uncoupled or (search is not None and record.id in search.blocked):
                return _Plan(record, None, "skipped")
            several = s.ambiguous.get(record.id) or (search.several.get(record.id) if search else None)
            if several is not None:
                return _Plan(record, None, "failed", failure=several)
            failure = resolved.missing.get(record.id) or self._rate_failure(record)
            if failure is not None:
                return _Plan(record, None, "failed", failure=failure)
            body = self._body(record, lookups, dest=None, create=True)
            op, new_id = self._create_op(record, body)
            return _Plan(record, None, "insert", op=op, dest_id=new_id)

        dest_id = self._dest_id(coupling)
        dest = s.known_destination.get(dest_id)
        if coupling.pending and dest is None:
            # The create was sent but never answered, and the record is not there: send it again, same id.
            failure = resolved.missing.get(record.id) or self._rate_failure(record)
            if failure is not None:
                return _Plan(record, coupling, "failed", dest_id=dest_id, failure=failure)
            body = self._body(record, lookups, dest=None, create=True)
            op = BatchOperation(
                "POST",
                self.dst_side.entity_set,
                ref=record.id,
                body={self.dst_side.id_field: dest_id, **body},
            )
            return _Plan(record, coupling, "insert", op=op, dest_id=dest_id)
        if coupling.skipped and not s.force:
            return _Plan(record, coupling, "skipped", dest_id=dest_id)
        src_changed = self._changed(record, self._source_version(record, coupling))
        failed_before = self._last_result(coupling) is SyncResult.FAILURE
        if dest is None and s.destination_complete:
            return self._deleted(record, coupling, dest_id, lookups)
        if not (src_changed or failed_before or s.force):
            return _Plan(record, coupling, "unchanged", dest=dest, dest_id=dest_id)
        failure = resolved.missing.get(record.id) or self._rate_failure(record)
        if failure is not None:
            return _Plan(record, coupling, "failed", dest=dest, dest_id=dest_id, failure=failure)
        if dest is not None and self._dest_changed(dest, coupling) and not s.overwrite:
            conflict = self._conflict(record, coupling, dest, lookups)
            if conflict is not None:
                return conflict
        body = self._body(record, lookups, dest=dest, create=False)
        if dest is not None and not body:
            return _Plan(record, coupling, "touch", dest=dest, dest_id=dest_id)
        op = BatchOperation(
            "PATCH",
            self.dst_side.entity_set,
            ref=record.id,
            id=dest_id,
            body=body,
            etag=self._if_match(coupling, dest),
        )
        return _Plan(record, coupling, "modify", dest=dest, dest_id=dest_id, op=op)

    def _conflict(
        self, record: Record, coupling: Coupling, dest: Record, lookups: list[LookupValue]
    ) -> _Plan | None:
        s = self.s
        dest_id = dest.id
        if s.mapping.direction is not Direction.BIDIRECTIONAL:
            return None
        differing = differences(
            s.spec, s.direction, record.fields, lookups, dest.fields, bidirectional_only=True
        )
        if not differing:
            return None
        winner = s.mapping.update_conflict
        if winner is UpdateConflictResolution.NONE:
            self.decided.add(dest_id)
            condition = UpdateConflict(self.src_side.entity_set, self.dst_side.entity_set, tuple(differing))
            return _Plan(record, coupling, "failed", dest=dest, dest_id=dest_id, failure=condition)
        if winner.value == self.src_system.value:
            self.decided.add(dest_id)
            return None
        return _Plan(record, coupling, "defer", dest=dest, dest_id=dest_id)

    def _deleted(self, record: Record, coupling: Coupling, dest_id: str, lookups: list[LookupValue]) -> _Plan:
        resolution = self.s.mapping.deletion_conflict
        if resolution is DeletionConflictResolution.RESTORE:
            again = self._recreated_by_a_person(record)
            if again is not None:  # match before insert: someone re-created it; couple that one instead
                new_coupling, dest = again
                body = self._body(record, lookups, dest=dest, create=False)
                if not body:
                    return _Plan(record, new_coupling, "touch", dest=dest, dest_id=dest.id)
                op = BatchOperation(
                    "PATCH",
                    self.dst_side.entity_set,
                    ref=record.id,
                    id=dest.id,
                    body=body,
                    etag=dest.etag or "*",
                )
                return _Plan(record, new_coupling, "modify", dest=dest, dest_id=dest.id, op=op)
            body = self._body(record, lookups, dest=None, create=True)
            op, new_id = self._create_op(record, body)
            return _Plan(record, coupling, "restore", dest_id=new_id or dest_id, op=op)
        if resolution is DeletionConflictResolution.REMOVE_COUPLING:
            return _Plan(record, coupling, "uncouple", dest_id=dest_id)
        return _Plan(
            record, coupling, "failed", dest_id=dest_id, failure=self._deleted_condition(record, dest_id)
        )

    def _recreated_by_a_person(self, record: Record) -> tuple[Coupling, Record] | None:
        """Before restoring: the one uncoupled match of the record on the other side, coupled now, or None."""
        targets = self._match_targets()
        with session_scope(self.db) as session:
            search = find_partners(
                session,
                spec=self.s.spec,
                direction=self.s.direction,
                records=[record],
                targets=targets,
                url_of=lambda r: self.dst.record_url(self.dst_side.entity_set, r),
            )
            coupling = search.coupled.get(record.id)
        if coupling is None:
            return None
        dest = next((t for t in targets if t.id == self._dest_id(coupling)), None)
        if dest is None:
            return None
        self.s.known_destination[dest.id] = dest
        self.s.job.coupled += 1
        return coupling, dest

    def _deleted_condition(self, record: Record, dest_id: str) -> DeletedRecord:
        return DeletedRecord(
            deleted_side=self.dst_system.value,
            table=self.dst_side.entity_set,
            record_id=dest_id,
            surviving_table=self.src_side.entity_set,
            surviving_key=self.src_side.key_of(record.fields) or self.src_side.name_of(record.fields),
        )

    def _rate_failure(self, record: Record) -> MissingExchangeRate | None:
        if not self.s.spec.needs_exchange_rate or self.rates is None:
            return None
        code = str(record.fields.get("code") or "")
        if self.rates.rate(code) is None:
            return MissingExchangeRate(currency_code=code)
        return None

    def _body(
        self, record: Record, lookups: list[LookupValue], *, dest: Record | None, create: bool
    ) -> dict[str, object]:
        extra: dict[str, object] = {}
        if self.s.spec.needs_exchange_rate and self.rates is not None:
            rate = self.rates.rate(str(record.fields.get("code") or ""))
            if rate is not None:
                extra["exchangerate"] = float(rate)
        return write_body(
            self.s.spec,
            self.s.direction,
            record.fields,
            lookups,
            dest=dest.fields if dest is not None else None,
            create=create,
            extra=extra,
        )

    def _dest_id(self, coupling: Coupling) -> str:
        return coupling.dataverse_id if self.dst_system is System.DATAVERSE else coupling.bc_id

    @staticmethod
    def _synced(coupling: Coupling, system: System) -> SyncedVersion:
        if system is System.BUSINESS_CENTRAL:
            return SyncedVersion(coupling.bc_etag, coupling.last_synced_bc_modified_at)
        return SyncedVersion(coupling.dataverse_etag, coupling.last_synced_dataverse_modified_at)

    def _source_version(self, record: Record, coupling: Coupling) -> SyncedVersion:
        superseded = self.s.superseded.get(record.id)
        return superseded if superseded is not None else self._synced(coupling, self.src_system)

    def _last_result(self, coupling: Coupling) -> SyncResult:
        if self.s.direction is Direction.TO_DATAVERSE:
            return SyncResult(coupling.last_result_to_dataverse)
        return SyncResult(coupling.last_result_from_dataverse)

    @staticmethod
    def _changed(record: Record, synced: SyncedVersion) -> bool:
        """Changed since the last sync: by ETag when both are known, else by modified-on."""
        if synced.modified_at is None:
            return True
        if synced.etag and record.etag:
            # Every write moves the ETag, also within the whole second Dataverse keeps in modifiedon. A copy
            # older than the synced version (read before this run's own write) is no change.
            return record.etag != synced.etag and record.modified_at >= synced.modified_at
        return record.modified_at > synced.modified_at

    def _dest_changed(self, dest: Record, coupling: Coupling) -> bool:
        user = self.s.integration_user_id
        if user and dest.modified_by and dest.modified_by.lower() == user.lower():
            return False
        return self._changed(dest, self._synced(coupling, self.dst_system))

    def _if_match(self, coupling: Coupling, dest: Record | None) -> str | None:
        if self.s.mapping.direction is not Direction.BIDIRECTIONAL:
            return "*"  # one-way mappings overwrite whatever changed in the destination, as BC does
        # The row at hand was checked for conflicts; else the row did not show up as changed, so it should
        # still be the version of the last sync: a stale ETag means it changed meanwhile (412, re-decided).
        if dest is not None and dest.etag:
            return dest.etag
        return self._synced(coupling, self.dst_system).etag or "*"

    # ---- writes --------------------------------------------------------------------------------

    def _write(self, page: _Page) -> None:
        writes = [p for p in page.plans if p.op is not None]
        if not writes:
            return
        answers = (
            page.sent.result() if page.sent is not None else self.dst.batch([p.op for p in writes if p.op])
        )
        for plan, result in zip(writes, answers, strict=True):
            plan.result = result
        resolved = page.resolved
        again = []
        for plan in writes:
            error = plan.result.error if plan.result is not None else None
            if plan.outcome == "modify" and isinstance(error, NotFound):
                self._on_missing_destination(plan)
            elif plan.outcome == "modify" and isinstance(error, ConcurrencyConflict):
                self._on_stale_destination(plan, resolved)
            else:
                continue
            if plan.op is not None:
                again.append(plan)
        if again:
            for plan, result in zip(again, self.dst.batch([p.op for p in again if p.op]), strict=True):
                plan.result = result

    def _on_stale_destination(self, plan: _Plan, resolved: ResolvedPage) -> None:
        """The destination changed since it was read or last synced: read it and decide again (once)."""
        assert plan.coupling is not None and plan.dest_id is not None
        try:
            fresh = self.dst.get(self.dst_side.entity_set, plan.dest_id)
        except NotFound:
            self._on_missing_destination(plan)
            return
        self.s.known_destination[fresh.id] = fresh
        replacement = self._decide(plan.record, plan.coupling, resolved)
        plan.outcome, plan.dest, plan.op, plan.failure, plan.result = (
            replacement.outcome,
            replacement.dest,
            replacement.op,
            replacement.failure,
            None,
        )

    def _on_missing_destination(self, plan: _Plan) -> None:
        assert plan.coupling is not None and plan.dest_id is not None
        replacement = self._deleted(plan.record, plan.coupling, plan.dest_id, [])
        plan.outcome, plan.failure, plan.result, plan.dest, plan.op = (
            replacement.outcome,
            replacement.failure,
            None,
            None,
            None,
        )
        if replacement.outcome == "restore":
            body = self._full_body_from(plan)
            plan.op, new_id = self._create_op(plan.record, body)
            if new_id is not None:
                plan.dest_id = new_id
                self._reserve([plan])

    def _full_body_from(self, plan: _Plan) -> dict[str, object]:
        with session_scope(self.db) as session:
            resolved = resolve_lookups(
                session,
                spec=self.s.spec,
                direction=self.s.direction,
                records=[plan.record],
                relations=self._relations(),
            )
        return self._body(plan.record, resolved.values.get(plan.record.id, []), dest=None, create=True)

    # ---- commit --------------------------------------------------------------------------------

    def _commit(self, plans: list[_Plan]) -> None:
        job = self.s.job
        job_level: Classification | None = None
        with session_scope(self.db) as session:
            for plan in plans:
                failure = plan.failure
                if plan.result is not None and plan.result.error is not None:
                    failure = plan.result.error
                elif plan.result is not None and plan.outcome in ("insert", "modify", "restore"):
                    self._apply_success(session, plan)
                    continue
                if failure is not None:
                    classification = self._classify(failure, plan.record)
                    if classification.job_level:
                        # One setup cause behind these records: one error entry, counted once.
                        job_level = job_level or classification
                        self.failed.add(plan.record.id)
                        continue
                    self._record_failure(session, plan, classification)
                    continue
                self._apply_quiet(session, plan)
            session.add(job)
        if job_level is not None:
            job.failed += 1
            self._abort(job_level)

    def _apply_success(self, session: Session, plan: _Plan) -> None:
        job = self.s.job
        assert plan.result is not None
        written = plan.result.record
        if written is None:
            raise RuntimeError(f"{self.dst_side.caption} write returned no record for {plan.record.id}")
        coupling: Coupling | None = plan.coupling
        if plan.outcome in ("insert", "restore"):
            coupling = self._couple(session, plan, written)
            job.inserted += 1
        elif coupling is not None and coupling.pending:
            job.inserted += 1  # created by an earlier attempt whose answer was lost: adopted, not re-created
        else:
            assert coupling is not None
            self.rewritten.setdefault(plan.dest_id or written.id, self._synced(coupling, self.dst_system))
            job.modified += 1
        self._mark(session, coupling, plan.record, written)
        self.succeeded.add(plan.record.id)

    def _couple(self, session: Session, plan: _Plan, written: Record) -> Coupling:
        record = plan.record
        if plan.coupling is not None:  # reserved before sending, or restored: points at the new record
            coupling = plan.coupling
            session.add(coupling)
            moved = (coupling.dataverse_id if self.dst_system is System.DATAVERSE else coupling.bc_id) != (
                written.id
            )
            if self.dst_system is System.DATAVERSE:
                coupling.dataverse_id = written.id
            else:
                coupling.bc_id = written.id
            reset_sync_state(coupling)
            if moved:
                session.flush()
            return coupling
        bc_record, dv_record = (
            (record, written) if self.src_system is System.BUSINESS_CENTRAL else (written, record)
        )
        return add_coupling(
            session,
            mapping=self.s.spec.name,
            bc_table=self.s.spec.bc.entity_set,
            bc_id=bc_record.id,
            dataverse_table=self.s.spec.dataverse.entity_set,
            dataverse_id=dv_record.id,
            bc_key=self.s.spec.bc.key_of(bc_record.fields),
            name=self.src_side.name_of(record.fields),
        )

    def _mark(self, session: Session, coupling: Coupling, source: Record, dest: Record | None) -> None:
        session.add(coupling)
        # A source copy older than this run's own write to it keeps the written version as the synced one.
        kept: Record | None = None if source.id in self.s.superseded else source
        bc, dv = (kept, dest) if self.src_system is System.BUSINESS_CENTRAL else (dest, kept)
        if self.src_system is System.BUSINESS_CENTRAL:
            assign(coupling, bc_key=self.s.spec.bc.key_of(source.fields) or coupling.bc_key)
        elif dest is not None:
            assign(coupling, bc_key=self.s.spec.bc.key_of(dest.fields) or coupling.bc_key)
        assign(coupling, name=(self.src_side.name_of(source.fields) or coupling.name or "")[:250] or None)
        mark_synced(
            session,
            coupling=coupling,
            direction=self.s.direction,
            job_id=self.s.job.id,
            bc_modified_at=bc.modified_at if bc is not None else None,
            dataverse_modified_at=dv.modified_at if dv is not None else None,
            bc_etag=bc.etag if bc is not None else None,
            dataverse_etag=dv.etag if dv is not None else None,
        )

    def _apply_quiet(self, session: Session, plan: _Plan) -> None:
        job = self.s.job
        if plan.outcome == "skipped":
            job.skipped += 1
        elif plan.outcome == "uncouple":
            assert plan.coupling is not None
            session.add(plan.coupling)
            uncouple(session, coupling=plan.coupling, by="Delete coupling")
            job.uncoupled += 1
        elif plan.outcome == "touch":
            assert plan.coupling is not None
            if plan.coupling.pending:
                job.inserted += 1  # created by an earlier attempt whose answer was lost: adopted
            else:
                job.unchanged += 1
            self._mark(session, plan.coupling, plan.record, plan.dest)
            self.succeeded.add(plan.record.id)
        elif plan.outcome == "unchanged":
            job.unchanged += 1
            self.succeeded.add(plan.record.id)

    def _settle_refused_create(self, session: Session, plan: _Plan) -> Coupling | None:
        """A create that failed: keep its pending coupling when the outcome is unknown, else release it."""
        coupling = plan.coupling
        if coupling is None or not coupling.pending:
            return coupling
        error = plan.result.error if plan.result is not None else None
        if isinstance(error, OUTCOME_UNKNOWN) and not isinstance(error, Throttled):
            return None  # looked up by its id on the next attempt; not marked failed or skipped
        session.add(coupling)
        if coupling.last_synced_bc_modified_at is None and coupling.last_synced_dataverse_modified_at is None:
            session.delete(coupling)  # the record was never created: nothing to couple
            session.flush()
            plan.coupling = None
            return None
        coupling.pending = False  # a restore that failed: still coupled to the deleted record
        return coupling

    def _record_failure(self, session: Session, plan: _Plan, classification: Classification) -> None:
        if plan.outcome in ("insert", "restore"):
            self._settle_refused_create(session, plan)
            coupling = plan.coupling if plan.coupling is not None and not plan.coupling.pending else None
        else:
            coupling = plan.coupling
        if coupling is not None:
            session.add(coupling)
        record_error(
            session,
            job=self.s.job,
            mapping=self.s.spec.name,
            direction=self.s.direction,
            classification=classification,
            source=self.source_ref(plan.record),
            destination=self.destination_ref(plan),
            coupling=coupling,
            channel=self.channel,
            now=self.clock(),
        )
        self.s.job.failed += 1
        self.failed.add(plan.record.id)

    # ---- errors --------------------------------------------------------------------------------

    def context(self, record: Record | None) -> ClassifyContext:
        """What the classifier needs to know about where a failure happened."""
        return ClassifyContext(
            mapping=self.s.spec.name,
            direction=self.s.direction.value,
            source_table=self.src_side.entity_set,
            destination_table=self.dst_side.entity_set,
            source_key=self.src_side.key_of(record.fields) if record is not None else None,
            source_name=self.src_side.name_of(record.fields) if record is not None else None,
            source_fields=record.fields if record is not None else None,
            references=self.references,
        )

    def _classify(self, failure: Failure | BaseException, record: Record | None) -> Classification:
        return classify(failure, context=self.context(record))

    def source_ref(self, record: Record) -> RecordRef:
        """The error's Source: the record that supplied the data."""
        return RecordRef(
            system=self.src_system,
            table=self.src_side.name,
            id=record.id,
            key=self.src_side.key_of(record.fields),
            name=self.src_side.name_of(record.fields),
            url=self.src.record_url(self.src_side.entity_set, record),
        )

    def destination_ref(self, plan: _Plan) -> RecordRef:
        """The error's Destination; a link only when the record is known to exist."""
        dest = plan.dest
        deleted = isinstance(plan.failure, DeletedRecord) or plan.outcome == "restore"
        url = None
        if dest is not None:
            url = self.dst.record_url(self.dst_side.entity_set, dest)
        elif plan.dest_id and not deleted and plan.outcome != "insert":
            url = self.dst.record_url(self.dst_side.entity_set, record_id=plan.dest_id)
        return RecordRef(
            system=self.dst_system,
            table=self.dst_side.name,
            id=plan.dest_id if plan.outcome != "insert" else None,
            key=self.dst_side.key_of(dest.fields) if dest is not None else None,
            name=self.dst_side.name_of(dest.fields) if dest is not None else None,
            url=url,
        )

    def _abort(self, classification: Classification) -> None:
        """Record the one job-level error of this job and end it."""
        classification = dataclasses.replace(classification, job_level=True)
        job = self.s.job
        with session_scope(self.db) as session:
            session.add(job)
            record_error(
                session,
                job=job,
                mapping=self.s.spec.name,
                direction=self.s.direction,
                classification=classification,
                source=RecordRef(system=self.src_system, table=self.src_side.name),
                destination=RecordRef(system=self.dst_system, table=self.dst_side.name),
                coupling=None,
                channel=self.channel,
                now=self.clock(),
            )
            job.message = classification.message[:250]
        raise PassAborted(classification)
