"""The durable work queue: rows written at ack time, claimed and run by the worker."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, text, update
from sqlmodel import Session, col, select

from storage.models import Door, WorkItem, WorkStatus
from storage.types import utcnow

LIVE_WORK = (WorkStatus.QUEUED, WorkStatus.RUNNING)

DEFAULT_LEASE = timedelta(seconds=15)


def serialise_requests(session: Session, key: str) -> None:
    """Make concurrent requests for the same key wait for each other until this transaction ends."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})
    elif dialect == "sqlite":
        # A write statement takes SQLite's single writer lock even when it changes no row.
        session.execute(text("UPDATE workitem SET id = id WHERE 1 = 0"))


def live_work(session: Session, *, kind: str) -> list[WorkItem]:
    """The queued or running items of a kind, oldest first."""
    query = (
        select(WorkItem)
        .where(WorkItem.kind == kind, col(WorkItem.status).in_(LIVE_WORK))
        .order_by(col(WorkItem.id))
    )
    return list(session.exec(query).all())


def enqueue_work(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
    requested_by: str | None,
    door: Door,
    response_url: str | None = None,
    due_at: datetime | None = None,
) -> WorkItem:
    """Add a queued work item (committed with the caller's transaction)."""
    item = WorkItem(
        kind=kind,
        payload=payload,
        requested_by=requested_by,
        door=door,
        response_url=response_url,
        due_at=due_at or utcnow(),
    )
    session.add(item)
    session.flush()
    return item


def claim_due(
    session: Session,
    *,
    worker: str,
    limit: int = 5,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> list[WorkItem]:
    """Claim due queued items (and running items whose lease expired) for `worker` with a fresh lease.

    The caller commits at once. Each claim raises `attempts`, which is also the claim's fencing token: only
    the holder of the newest claim may record the outcome. On PostgreSQL the rows are locked with FOR UPDATE
    SKIP LOCKED so several workers never take the same row; SQLite has a single writer, so the claim's own
    transaction already serialises workers.
    """
    now = now or utcnow()
    query = (
        select(WorkItem)
        .where(
            or_(
                and_(col(WorkItem.status) == WorkStatus.QUEUED, col(WorkItem.due_at) <= now),
                and_(
                    col(WorkItem.status) == WorkStatus.RUNNING,
                    or_(
                        col(WorkItem.lease_until) < now,
                        and_(col(WorkItem.lease_until).is_(None), col(WorkItem.claimed_at) < now - lease),
                    ),
                ),
            )
        )
        .order_by(col(WorkItem.due_at), col(WorkItem.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    items = list(session.exec(query).all())
    for item in items:
        item.status = WorkStatus.RUNNING
        item.claimed_by = worker
        item.claimed_at = now
        item.lease_until = now + lease
        item.attempts += 1
        session.add(item)
    session.flush()
    return items


def renew_leases(
    session: Session, *, worker: str, now: datetime | None = None, lease: timedelta = DEFAULT_LEASE
) -> int:
    """Extend the lease of every item `worker` is running; return how many are still its own."""
    now = now or utcnow()
    statement = (
        update(WorkItem)
        .where(col(WorkItem.status) == WorkStatus.RUNNING, col(WorkItem.claimed_by) == worker)
        .values(lease_until=now + lease)
    )
    return int(session.exec(statement).rowcount or 0)


def holds_claim(item: WorkItem | None, *, worker: str, attempt: int) -> bool:
    """True while `worker`'s claim number `attempt` is the item's newest claim (its fencing token)."""
    return (
        item is not None
        and item.status == WorkStatus.RUNNING
        and item.claimed_by == worker
        and item.attempts == attempt
    )


def finish_work(
    session: Session, *, item: WorkItem, ok: bool, result: str, now: datetime | None = None
) -> None:
    """Record a work item's outcome."""
    item.status = WorkStatus.DONE if ok else WorkStatus.FAILED
    item.result = result
    item.finished_at = now or utcnow()
    item.lease_until = None
    session.add(item)
    session.flush()


def retry_work(session: Session, *, item: WorkItem, due_at: datetime, result: str) -> None:
    """Put a work item back in the queue to run again at `due_at` (e.g. the business app throttled)."""
    item.status = WorkStatus.QUEUED
    item.due_at = due_at
    item.result = result
    item.claimed_by = None
    item.lease_until = None
    session.add(item)
    session.flush()


def get_work(session: Session, *, item_id: int) -> WorkItem | None:
    """Return one work item."""
    return session.get(WorkItem, item_id)


def delete_finished_work(session: Session, *, older_than: datetime) -> int:
    """Delete done and failed work items finished before `older_than`; return how many."""
    statement = delete(WorkItem).where(
        col(WorkItem.status).in_((WorkStatus.DONE, WorkStatus.FAILED)),
        col(WorkItem.finished_at) < older_than,
    )
    return int(session.exec(statement).rowcount or 0)
