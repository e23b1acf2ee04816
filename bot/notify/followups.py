"""REPEAT and UPDATE: a reply in the error's thread and edits of its message after it was posted."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from bot.notify.context import Context, claimed_or_drop, drop, mark_sent
from bot.notify.render import Message, state_text
from bot.notify.slack import Deferred, DeliveryProblem, Permanent, Post
from storage import digests
from storage.db import session_scope
from storage.models import ErrorStatus, Notification, NotificationKind, SyncError
from storage.outbox import Claim, enqueue, last_sent, open_kinds

log = logging.getLogger(__name__)

REFRESH = "refresh"  # payload flag of an UPDATE that only re-renders the parent (count, last seen)


def deliver_repeat(ctx: Context, claim: Claim) -> None:
    """Reply in the error's thread (coalescing close repeats), then edit the parent's count."""
    now = ctx.clock()
    with session_scope(ctx.db) as session:
        claimed = claimed_or_drop(session, ctx, notification_id=claim.id, now=now, why=_repeat_drop_reason)
        if claimed is None:
            return
        _row, error = claimed
        assert error.id is not None and error.slack_ts is not None and error.slack_channel is not None
        last = last_sent(session, error_id=error.id, kind=NotificationKind.REPEAT)
        if last is not None and last.sent_at is not None and last.sent_at + ctx.repeat_gap > now:
            raise Deferred(last.sent_at + ctx.repeat_gap, "coalescing repeats")
        reply = ctx.render.build_repeat_reply(error, locale=ctx.locale)
        parent = ctx.render.build_error_message(error, locale=ctx.locale)
        channel, parent_ts, error_id = error.slack_channel, error.slack_ts, error.id
    post = Post(channel=channel, message=reply, notification_id=claim.id, thread_ts=parent_ts)
    ts, found = ctx.slack.post(post, claim)
    mark_sent(ctx, notification_id=claim.id, ts=ts)
    ctx.report.count_post(found=found)
    _edit_or_enqueue(ctx, channel=channel, ts=parent_ts, message=parent, error_id=error_id)


def deliver_update(ctx: Context, claim: Claim) -> None:
    """Re-render the error's own message; for an error listed in a digest thread, reply one line there."""
    now = ctx.clock()
    with session_scope(ctx.db) as session:
        claimed = claimed_or_drop(session, ctx, notification_id=claim.id, now=now, why=_update_drop_reason)
        if claimed is None:
            return
        row, error = claimed
        container = digests.thread_of(session, error)
        if container is not None and row.payload.get(REFRESH):
            drop(session, ctx.report, row, now=now, reason="error is listed in a digest thread")
            return
        assert error.slack_ts is not None and error.slack_channel is not None
        channel, error_ts = error.slack_channel, error.slack_ts
        if container is None:
            message = ctx.render.build_error_message(error, locale=ctx.locale)
            thread_ts = None
        else:
            line = row.payload.get("text") or state_text(error, locale=ctx.locale)
            message = ctx.render.build_text(str(line))
            thread_ts = container.slack_ts
    if thread_ts is None:
        ctx.slack.update(channel, error_ts, message)
        ctx.report.updated += 1
        ts = error_ts
    else:
        ts, found = ctx.slack.post(Post(channel, message, claim.id, thread_ts=thread_ts), claim)
        ctx.report.count_post(found=found)
    mark_sent(ctx, notification_id=claim.id, ts=ts)


def _repeat_drop_reason(session: Session, row: Notification, error: SyncError | None) -> str | None:
    if error is None or error.id is None:
        return "error entry no longer exists"
    assert row.id is not None
    if open_kinds(session, error_id=error.id, kind=NotificationKind.REPEAT, newer_than=row.id):
        return "superseded by a newer repeat"
    if error.status == ErrorStatus.SNOOZED:
        return "error is snoozed"
    if error.slack_ts is None:
        return "error has no message yet (it will show the latest count)"
    if digests.thread_of(session, error) is not None:
        return "error is listed in a digest thread"
    return None


def _update_drop_reason(session: Session, row: Notification, error: SyncError | None) -> str | None:
    if error is None or error.id is None:
        return "error entry no longer exists"
    assert row.id is not None
    refresh = bool(row.payload.get(REFRESH))
    newer = open_kinds(session, error_id=error.id, kind=NotificationKind.UPDATE, newer_than=row.id)
    if any(refresh or not n.payload.get(REFRESH) for n in newer):
        return "superseded by a newer update"
    if error.slack_ts is None:
        return "error has no message yet (it will show its state when posted)"
    return None


def _edit_or_enqueue(ctx: Context, *, channel: str, ts: str, message: Message, error_id: int | None) -> None:
    try:
        ctx.slack.update(channel, ts, message)
        ctx.report.updated += 1
        return
    except Permanent as problem:
        log.warning("could not edit message %s in %s: %s", ts, channel, problem.error)
        return
    except DeliveryProblem as problem:
        due: datetime = problem.until if isinstance(problem, Deferred) else ctx.clock()
    with session_scope(ctx.db) as session:
        enqueue(
            session,
            kind=NotificationKind.UPDATE,
            channel=channel,
            error_id=error_id,
            payload={REFRESH: True},
            due_at=due,
        )
