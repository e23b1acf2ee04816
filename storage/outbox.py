"""The Slack outbox: notifications written in the same transaction as their cause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage.models import Notification, NotificationKind
from storage.types import utcnow


def enqueue(
    session: Session,
    *,
    kind: NotificationKind,
    channel: str,
    error_id: int | None = None,
    payload: dict[str, Any] | None = None,
    due_at: datetime | None = None,
) -> Notification:
    """Add a pending notification to the outbox (the caller's transaction commits it with its cause)."""
    notification = Notification(
        kind=kind,
        channel=channel,
        error_id=error_id,
        payload=payload or {},
        due_at=due_at or utcnow(),
    )
    session.add(notification)
    session.flush()
    return notification
