"""Queries on the error log: record with de-duplication, list, get, resolve, snooze, count and purge."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select

from storage.models import LIVE_ERROR_STATUSES, Coupling, Direction, ErrorStatus, SyncError
from storage.types import utcnow

PURGE_CHUNK_ROWS = 10_000
PURGE_CACHE_KIB = 65_536
IN_CHUNK = 500  # ids per IN (...) list
CHECKPOINT_EVERY_CHUNKS = 25  # index pages change in many chunks; copy them back once per 25

# The columns a list of errors shows (bot.blocks.listing.list_item); reading another one raises. Built once:
# a new option per query costs more than the columns it leaves out.
LISTED_COLUMNS = load_only(
    *(
        getattr(SyncError, name)
        for name in (
            "id",
            "category",
            "status",
            "mapping",
            "occurrences",
            "message",
            "facts",
            "source_system",
            "source_table",
            "source_key",
            "source_name",
            "source_url",
            "destination_key",
            "destination_name",
        )
    ),
    raiseload=True,
)


def upsert_error(
    session: Session, *, draft: SyncError, now: datetime | None = None
) -> tuple[SyncError, bool]:
    """Store a new error, or count a repeat of a live one with the same fingerprint; return (row, is_new)."""
    now = now or utcnow()
    existing = session.exec(
        select(SyncError)
        .where(SyncError.fingerprint == draft.fingerprint, col(SyncError.status).in_(LIVE_ERROR_STATUSES))
        .order_by(col(SyncError.id).desc())
        .limit(1)
    ).first()
    if existing is None:
        draft.created_at = now
        draft.last_seen_at = now
        session.add(draft)
        session.flush()
        return draft, True
    existing.occurrences += 1
    existing.last_seen_at = now
    for name in ("job_id", "message", "detail", "hint", "code", "facts", "source_url", "destination_url"):
        setattr(existing, name, getattr(draft, name))
    for side in ("source", "destination"):
        for part in ("id", "key", "name"):
            value = getattr(draft, f"{side}_{part}")
            if value is not None:
                setattr(existing, f"{side}_{part}", value)
    session.add(existing)
    session.flush()
    return existing, False


def get_error(session: Session, *, error_id: int) -> SyncError | None:
    """Return one error by id, or None."""
    return session.get(SyncError, error_id)


def errors_by_ids(session: Session, ids: Iterable[int]) -> dict[int, SyncError]:
    """The errors with these ids, by id (ids of deleted errors are left out); read in chunks of IN_CHUNK."""
    wanted = list(ids)
    found: dict[int, SyncError] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        for error in session.exec(select(SyncError).where(col(SyncError.id).in_(chunk))).all():
            assert error.id is not None
            found[error.id] = error
    return found


def list_errors(
    session: Session,
    *,
    status: ErrorStatus | None = ErrorStatus.OPEN,
    mapping: str | None = None,
    category: str | None = None,
    limit: int = 20,
    before_id: int | None = None,
    listed_only: bool = False,
) -> list[SyncError]:
    """Return errors newest first; `status=None` means every status; `before_id` pages on.

    `listed_only` loads only LISTED_COLUMNS (what a Slack list shows), not the texts and the rest.
    """
    query = select(SyncError)
    if listed_only:
        query = query.options(LISTED_COLUMNS)
    if status is not None:
        query = query.where(SyncError.status == status)
    if mapping is not None:
        query = query.where(SyncError.mapping == mapping)
    if category is not None:
        query = query.where(SyncError.category == category)
    if before_id is not None:
        query = query.where(col(SyncError.id) < before_id)
    query = query.order_by(col(SyncError.created_at).desc(), col(SyncError.id).desc()).limit(limit)
    return list(session.exec(query).all())


def open_counts(session: Session) -> list[tuple[str, str, int]]:
    """Return (mapping, category, count) of open errors, largest first."""
    rows = session.exec(
        select(SyncError.mapping, SyncError.category, func.count())
        .where(SyncError.status == ErrorStatus.OPEN)
        .group_by(SyncError.mapping, SyncError.category)
        .order_by(func.count().desc(), SyncError.mapping)
    ).all()
    return [(mapping, str(category), int(count)) for mapping, category, count in rows]


def newest_error_messages(session: Session, *, job_ids: Iterable[str]) -> dict[str, str]:
    """Return, per job id, the message of its newest error entry (only jobs that have one)."""
    ids = list(job_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(SyncError.job_id, SyncError.message)
        .where(col(SyncError.job_id).in_(ids))
        .order_by(col(SyncError.last_seen_at), col(SyncError.id))
    ).all()
    return {job_id: message for job_id, message in rows if job_id is not None}


def resolve_error(
    session: Session, *, error: SyncError, by: str, resolution: str, now: datetime | None = None
) -> SyncError:
    """Mark an error resolved, saying by whom and how."""
    error.status = ErrorStatus.RESOLVED
    error.resolved_at = now or utcnow()
    error.resolved_by = by
    error.resolution = resolution[:250]
    error.snoozed_until = None
    session.add(error)
    session.flush()
    return error


def snooze_error(session: Session, *, error: SyncError, until: datetime, by: str) -> SyncError:
    """Hide an error's notifications until `until`."""
    error.status = ErrorStatus.SNOOZED
    error.snoozed_until = until
    error.resolved_by = by
    session.add(error)
    session.flush()
    return error


def wake_snoozed(session: Session, *, now: datetime | None = None) -> int:
    """Reopen snoozed errors whose time is up; return how many."""
    now = now or utcnow()
    rows = session.exec(
        select(SyncError).where(SyncError.status == ErrorStatus.SNOOZED, col(SyncError.snoozed_until) <= now)
    ).all()
    for error in rows:
        error.status = ErrorStatus.OPEN
        error.snoozed_until = None
        session.add(error)
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class PurgeScope:
    """What a purge deletes, fixed when its count is shown.

    Entries not seen since `cutoff` (None: every entry) among those that existed then (id up to
    `upto_id`); with `keep_skipped`, never the last error of a Skipped coupling.
    """

    cutoff: datetime | None
    upto_id: int | None
    keep_skipped: bool = False


def skipped_trace() -> ColumnElement[bool]:
    """True for an error entry that is the last error of a Skipped coupling (its only trace)."""
    return exists(
        select(Coupling.id).where(
            col(Coupling.skipped).is_(True), Coupling.failure_fingerprint == SyncError.fingerprint
        )
    )


def _in_scope(query: Any, scope: PurgeScope) -> Any:
    if scope.cutoff is not None:
        # "Older than N days" means not seen for N days: an error seen again minutes ago stays.
        query = query.where(col(SyncError.last_seen_at) < scope.cutoff)
    if scope.upto_id is not None:
        query = query.where(col(SyncError.id) <= scope.upto_id)
    if scope.keep_skipped:
        query = query.where(~skipped_trace())
    return query


def purge_scope(session: Session, *, cutoff: datetime | None, keep_skipped: bool = False) -> PurgeScope:
    """Fix a purge's scope now: the cutoff and the newest entry that exists at this moment."""
    newest = session.exec(select(func.max(SyncError.id))).one()
    return PurgeScope(
        cutoff=cutoff, upto_id=int(newest) if newest is not None else 0, keep_skipped=keep_skipped
    )


def count_errors(
    session: Session, *, older_than: datetime | None = None, scope: PurgeScope | None = None
) -> int:
    """Count error entries not seen since `older_than` (all entries when None), or those in `scope`."""
    scope = scope or PurgeScope(cutoff=older_than, upto_id=None)
    query = _in_scope(select(func.count()).select_from(SyncError), scope)
    return int(session.exec(query).one())


@dataclass(frozen=True)
class PurgeResult:
    """How many entries a purge deleted, in how many short transactions, and the longest one (seconds)."""

    deleted: int
    chunks: int
    longest_transaction: float = 0.0


def purge_errors(
    engine: Engine,
    *,
    older_than: datetime | None = None,
    scope: PurgeScope | None = None,
    chunk_rows: int = PURGE_CHUNK_ROWS,
    on_progress: Callable[[int, int], None] | None = None,
) -> PurgeResult:
    """Delete error entries not seen since `older_than` (all when None), or exactly those in `scope`, in
    short primary-key-range chunks.

    Each chunk is one set-based DELETE over an id range in its own transaction, so readers and writers on
    SQLite wait at most one chunk. `on_progress(deleted_so_far, total_estimate)` is called after each chunk.
    """
    scope = scope or PurgeScope(cutoff=older_than, upto_id=None)
    with Session(engine) as session:
        bounds = _in_scope(select(func.min(SyncError.id), func.max(SyncError.id), func.count()), scope)
        low, high, total = session.exec(bounds).one()
    if low is None or high is None:
        return PurgeResult(deleted=0, chunks=0)
    deleted = chunks = 0
    longest = 0.0
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # SQLite runs its automatic WAL checkpoint inside the commit that crosses the threshold, which
            # would stretch one chunk's transaction; checkpoint passively between chunks instead.
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            # Six indexes change per deleted row; a larger page cache for this connection keeps them hot.
            connection.exec_driver_sql(f"PRAGMA cache_size=-{PURGE_CACHE_KIB}")
            connection.commit()
        try:
            start = int(low)
            while start <= int(high):
                stop = start + chunk_rows
                statement = _in_scope(
                    delete(SyncError).where(col(SyncError.id) >= start, col(SyncError.id) < stop), scope
                )
                began = time.perf_counter()
                with connection.begin():
                    deleted += connection.execute(statement).rowcount or 0
                longest = max(longest, time.perf_counter() - began)
                chunks += 1
                if sqlite and chunks % CHECKPOINT_EVERY_CHUNKS == 0:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                    connection.commit()
                start = stop
                if on_progress is not None:
                    on_progress(deleted, int(total))
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                connection.exec_driver_sql("PRAGMA wal_autocheckpoint=1000")
                connection.exec_driver_sql("PRAGMA cache_size=-2000")
                connection.commit()
    return PurgeResult(deleted=deleted, chunks=chunks, longest_transaction=longest)


def live_job_errors(
    session: Session, *, mapping: str | None = None, categories: tuple[str, ...] | None = None
) -> list[SyncError]:
    """Open or snoozed job-level errors (no source record): setup problems that ended a run."""
    query = select(SyncError).where(
        col(SyncError.source_id).is_(None), col(SyncError.status).in_(LIVE_ERROR_STATUSES)
    )
    if mapping is not None:
        query = query.where(SyncError.mapping == mapping)
    if categories is not None:
        query = query.where(col(SyncError.category).in_(categories))
    return list(session.exec(query.order_by(col(SyncError.id))).all())


def skipped_couplings(
    session: Session, *, mapping: str | None = None, limit: int = 100
) -> list[tuple[Coupling, SyncError | None]]:
    """Skipped couplings by id (Business Central loads 100 at a time), each with its last error entry
    (None when that entry was deleted)."""
    query = select(Coupling).where(col(Coupling.skipped).is_(True))
    if mapping is not None:
        query = query.where(Coupling.mapping == mapping)
    couplings = list(session.exec(query.order_by(col(Coupling.id)).limit(limit)).all())
    fingerprints = {c.failure_fingerprint for c in couplings if c.failure_fingerprint}
    last: dict[str, SyncError] = {}
    if fingerprints:
        rows = session.exec(
            select(SyncError).where(col(SyncError.fingerprint).in_(fingerprints)).order_by(col(SyncError.id))
        ).all()
        last = {row.fingerprint: row for row in rows}  # the newest entry per fingerprint wins
    return [(c, last.get(c.failure_fingerprint or "")) for c in couplings]


def count_skipped(session: Session) -> int:
    """How many couplings are Skipped (excluded from scheduled runs until retried)."""
    return int(
        session.exec(select(func.count()).select_from(Coupling).where(col(Coupling.skipped).is_(True))).one()
    )


def count_job_errors(session: Session, *, job_ids: list[str]) -> int:
    """How many live error entries these jobs wrote or saw again."""
    if not job_ids:
        return 0
    query = (
        select(func.count())
        .select_from(SyncError)
        .where(col(SyncError.job_id).in_(job_ids), col(SyncError.status).in_(LIVE_ERROR_STATUSES))
    )
    return int(session.exec(query).one())


def live_errors_of_category(session: Session, *, mapping: str, category: str) -> list[SyncError]:
    """A mapping's open or snoozed record errors of one category."""
    query = select(SyncError).where(
        SyncError.mapping == mapping,
        SyncError.category == category,
        col(SyncError.status).in_(LIVE_ERROR_STATUSES),
    )
    return list(session.exec(query.order_by(col(SyncError.id))).all())


def reopen_resolved(session: Session, *, fingerprint: str, now: datetime | None = None) -> SyncError | None:
    """The newest resolved error with this fingerprint, open again and counted once more; None if none."""
    error = session.exec(
        select(SyncError)
        .where(SyncError.fingerprint == fingerprint, SyncError.status == ErrorStatus.RESOLVED)
        .order_by(col(SyncError.id).desc())
        .limit(1)
    ).first()
    if error is None:
        return None
    error.status = ErrorStatus.OPEN
    error.occurrences += 1
    error.last_seen_at = now or utcnow()
    error.resolved_at = None
    error.resolved_by = None
    error.resolution = None
    session.add(error)
    session.flush()
    return error


def has_live_error(session: Session, *, fingerprint: str) -> bool:
    """True when an open or snoozed error has this fingerprint."""
    query = select(SyncError.id).where(
        SyncError.fingerprint == fingerprint, col(SyncError.status).in_(LIVE_ERROR_STATUSES)
    )
    return session.exec(query.limit(1)).first() is not None


def due_snoozed(session: Session, *, now: datetime) -> list[SyncError]:
    """Snoozed errors whose time is up."""
    query = select(SyncError).where(
        SyncError.status == ErrorStatus.SNOOZED, col(SyncError.snoozed_until) <= now
    )
    return list(session.exec(query).all())


def live_record_errors(
    session: Session,
    *,
    mapping: str,
    direction: Direction,
    source_table: str,
    source_ids: list[str] | None = None,
) -> list[SyncError]:
    """Open or snoozed record-level errors of a mapping in one direction (optionally of some records)."""
    query = select(SyncError).where(
        SyncError.mapping == mapping,
        SyncError.direction == direction,
        SyncError.source_table == source_table,
        col(SyncError.source_id).is_not(None),
        col(SyncError.status).in_(LIVE_ERROR_STATUSES),
    )
    if source_ids is not None:
        query = query.where(col(SyncError.source_id).in_(source_ids))
    return list(session.exec(query.order_by(col(SyncError.id))).all())
