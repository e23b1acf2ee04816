"""Waking snoozed errors whose time is up, and re-rendering their Slack messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.errors import due_snoozed, wake_snoozed
from storage.models import NotificationKind
from storage.outbox import enqueue
from storage.types import utcnow


def wake_snoozed_errors(db: Engine, *, clock: Callable[[], datetime] = utcnow) -> int:
    """Reopen snoozed errors whose time is up and queue an edit of their Slack messages; return how many."""
    now = clock()
    with session_scope(db) as session:
        due = due_snoozed(session, now=now)
        woken = wake_snoozed(session, now=now)
        for error in due:
            if error.slack_channel and error.id is not None:  # posted, or about to be: show it awake
                enqueue(session, kind=NotificationKind.UPDATE, channel=error.slack_channel, error_id=error.id)
        return woken
