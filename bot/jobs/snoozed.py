"""Waking snoozed errors whose time is up, and re-rendering their Slack messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.db import session_scope
from storage.errors import wake_snoozed
from storage.models import ErrorStatus, NotificationKind, SyncError
from storage.outbox import enqueue
from storage.types import utcnow


def wake_snoozed_errors(db: Engine, *, clock: Callable[[], datetime] = utcnow) -> int:
    """Reopen snoozed errors whose time is up and queue an edit of their Slack messages; return how many."""
    now = clock()
    with session_scope(db) as session:
        posted = session.exec(
            select(SyncError.id, SyncError.slack_channel).where(
                SyncError.status == ErrorStatus.SNOOZED,
                col(SyncError.snoozed_until) <= now,
                col(SyncError.slack_channel).is_not(None),
            )
        ).all()
        woken = wake_snoozed(session, now=now)
        for error_id, channel in posted:
            if channel is not None:
                enqueue(session, kind=NotificationKind.UPDATE, channel=channel, error_id=error_id)
        return woken
