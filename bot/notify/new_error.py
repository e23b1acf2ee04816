"""NEW_ERROR: post the error's own message, or fold it into its cause group or the channel's burst window."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.notify import containers
from bot.notify.causes import story_of
from bot.notify.context import Context, claimed_or_drop
from bot.notify.slack import Post
from storage import digests
from storage.db import session_scope
from storage.models import ErrorStatus, Notification, NotificationStatus, SyncError
from storage.outbox import Claim, finish, get_with_error


def deliver_new_error(ctx: Context, claim: Claim) -> None:
    """Deliver one claimed NEW_ERROR row."""
    now = ctx.clock()
    with session_scope(ctx.db) as session:
        claimed = claimed_or_drop(session, ctx, notification_id=claim.id, now=now, why=_new_error_drop_reason)
        if claimed is None:
            return
        row, error = claimed
        cause = story_of(error, row.payload.get("cause_key"))
        if cause is not None:
            containers.join_cause(session, member=row, cause=cause, now=now, timing=ctx.timing)
            ctx.report.held += 1
            return
        window = digests.open_window(session, row.channel)
        if window is not None:
            containers.hold(session, container=window, member=row, timing=ctx.timing)
            ctx.report.held += 1
            return
        message = ctx.render.build_error_message(error, locale=ctx.locale)
    ts, found = ctx.slack.post(Post(channel=claim.channel, message=message, notification_id=claim.id), claim)
    with session_scope(ctx.db) as session:
        record_own_message(session, ctx, notification_id=claim.id, ts=ts, now=ctx.clock())
    ctx.report.count_post(found=found)
    ctx.report.sent += 1


def record_own_message(
    session: Session, ctx: Context, *, notification_id: int, ts: str, now: datetime
) -> None:
    """Store a posted error message (row SENT, error's channel+ts) and open the channel's burst window."""
    row, error = get_with_error(session, notification_id=notification_id)
    if row is None:
        return
    row.digest_key = None
    finish(session, row, status=NotificationStatus.SENT, now=now, slack_ts=ts)
    if error is not None:
        error.slack_channel = row.channel
        error.slack_ts = ts
        session.add(error)
    containers.start_window(session, channel=row.channel, now=now, timing=ctx.timing)


def _new_error_drop_reason(_session: Session, _row: Notification, error: SyncError | None) -> str | None:
    return drop_reason(error)


def drop_reason(error: SyncError | None) -> str | None:
    """Why a new error needs no message any more (gone, no longer open, already posted), or None."""
    if error is None:
        return "error entry no longer exists"
    if error.status != ErrorStatus.OPEN:
        return f"error is {error.status} before it was posted"
    if error.slack_ts is not None:
        return "error already has a message"
    return None
