"""What every kind of notification needs while it is being delivered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.notify.render import Renderer
from bot.notify.report import DeliveryReport
from bot.notify.slack import SlackGateway
from bot.notify.timing import DigestSettings
from storage.db import session_scope
from storage.models import Notification, NotificationStatus, SyncError
from storage.outbox import finish, get_notification, get_with_error


@dataclass
class Context:
    """Shared collaborators and limits of one delivery loop, plus the report of the current round."""

    db: Engine
    slack: SlackGateway
    render: Renderer
    locale: str
    timing: DigestSettings
    clock: Callable[[], datetime]
    page_size: int
    repeat_gap: timedelta
    report: DeliveryReport


def drop(session: Session, report: DeliveryReport, row: Notification, *, now: datetime, reason: str) -> None:
    """Finish a row unposted (DROPPED, saying why) and count it."""
    finish(session, row, status=NotificationStatus.DROPPED, now=now, reason=reason)
    report.dropped += 1


def claimed_or_drop(
    session: Session,
    ctx: Context,
    *,
    notification_id: int,
    now: datetime,
    why: Callable[[Session, Notification, SyncError | None], str | None],
) -> tuple[Notification, SyncError] | None:
    """A claimed row and its error; None when the row is gone or `why` names a reason to drop it (dropped).

    `why` must give a reason when the error no longer exists.
    """
    row, error = get_with_error(session, notification_id=notification_id)
    if row is None:
        return None
    reason = why(session, row, error)
    if reason is not None:
        drop(session, ctx.report, row, now=now, reason=reason)
        return None
    assert error is not None
    return row, error


def mark_sent(ctx: Context, *, notification_id: int, ts: str) -> None:
    """After a post: its row (if still there) is SENT with the message's ts, and counted."""
    with session_scope(ctx.db) as session:
        row = get_notification(session, notification_id=notification_id)
        if row is not None:
            finish(session, row, status=NotificationStatus.SENT, now=ctx.clock(), slack_ts=ts)
    ctx.report.sent += 1
