"""Queries on the error log: record with de-duplication, list, get, resolve, snooze, count and purge."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.models import LIVE_ERROR_STATUSES, ErrorStatus, SyncError
from storage.types import utcnow

PURGE_CHUNK_ROWS = 10_000
PURGE_CACHE_KIB = 65_536
CHECKPOINT_EVERY_CHUNKS = 25  # index pages change in many chunks; copy them back once per 25


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


def list_errors(
    session: Session,
    *,
    status: ErrorStatus | None = ErrorStatus.OPEN,
    mapping: str | None = None,
    category: str | None = None,
    limit: int = 20,
    before_id: int | None = None,
) -> list[SyncError]:
    """Return errors newest first; `status=None` means every status; `before_id` pages on."""
    query = select(SyncError)
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


def count_errors(session: Session, *, older_than: datetime | None = None) -> int:
    """Count error entries created before `older_than` (all entries when None)."""
    query = select(func.count()).select_from(SyncError)
    if older_than is not None:
        query = query.where(col(SyncError.created_at) < older_than)
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
    older_than: datetime | None,
    chunk_rows: int = PURGE_CHUNK_ROWS,
    on_progress: Callable[[int, int], None] | None = None,
) -> PurgeResult:
    """Delete error entries created before `older_than` (all when None) in short primary-key-range chunks.

    Each chunk is one set-based DELETE over an id range in its own transaction, so readers and writers on
    SQLite wait at most one chunk. `on_progress(deleted_so_far, total_estimate)` is called after each chunk.
    """
    with Session(engine) as session:
        bounds = select(func.min(SyncError.id), func.max(SyncError.id), func.count())
        if older_than is not None:
            bounds = bounds.where(col(SyncError.created_at) < older_than)
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
                statement = delete(SyncError).where(col(SyncError.id) >= start, col(SyncError.id) < stop)
                if older_than is not None:
                    statement = statement.where(col(SyncError.created_at) < older_than)
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
