"""The durable work queue: rows written at ack time, claimed and run by the worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_
from sqlmodel import Session, col, select

from storage.models import Door, WorkItem, WorkStatus
from storage.types import utcnow

STALE_CLAIM = timedelta(minutes=10)


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
    session: Session, *, worker: str, limit: int = 5, now: datetime | None = None
) -> list[WorkItem]:
    """Claim due queued items (and items whose claim went stale) for `worker`; the caller commits at once.

    On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED so several workers never take the same row;
    SQLite has a single writer, so the claim's own transaction already serialises workers.
    """
    now = now or utcnow()
    stale = now - STALE_CLAIM
    query = (
        select(WorkItem)
        .where(
            or_(
                and_(col(WorkItem.status) == WorkStatus.QUEUED, col(WorkItem.due_at) <= now),
                and_(col(WorkItem.status) == WorkStatus.RUNNING, col(WorkItem.claimed_at) < stale),
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
        item.attempts += 1
        session.add(item)
    session.flush()
    return items


def finish_work(
    session: Session, *, item: WorkItem, ok: bool, result: str, now: datetime | None = None
) -> None:
    """Record a work item's outcome."""
    item.status = WorkStatus.DONE if ok else WorkStatus.FAILED
    item.result = result
    item.finished_at = now or utcnow()
    session.add(item)
    session.flush()


def retry_work(session: Session, *, item: WorkItem, due_at: datetime, result: str) -> None:
    """Put a work item back in the queue to run again at `due_at` (e.g. the business app throttled)."""
    item.status = WorkStatus.QUEUED
    item.due_at = due_at
    item.result = result
    item.claimed_by = None
    session.add(item)
    session.flush()


def count_work(session: Session, *, status: WorkStatus) -> int:
    """Count work items in one state."""
    return int(
        session.exec(select(func.count()).select_from(WorkItem).where(WorkItem.status == status)).one()
    )


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
