"""TEXT: post a plain line (cleanup counts, health alerts, summaries), optionally in a thread."""

from __future__ import annotations

from bot.notify.context import Context
from bot.notify.slack import Post
from storage.db import session_scope
from storage.models import Notification, NotificationStatus
from storage.outbox import Claim, finish


def deliver_text(ctx: Context, claim: Claim) -> None:
    """Post payload["text"] in the row's channel (in payload["thread_ts"]'s thread if given)."""
    with session_scope(ctx.db) as session:
        row = session.get(Notification, claim.id)
        if row is None:
            return
        text = str(row.payload.get("text") or "")
        thread_ts = row.payload.get("thread_ts")
        if not text:
            finish(session, row, status=NotificationStatus.DROPPED, now=ctx.clock(), reason="no text")
            ctx.report.dropped += 1
            return
    post = Post(
        channel=claim.channel,
        message=ctx.render.build_text(text),
        notification_id=claim.id,
        thread_ts=str(thread_ts) if thread_ts else None,
    )
    ts, found = ctx.slack.post(post, claim)
    with session_scope(ctx.db) as session:
        row = session.get(Notification, claim.id)
        if row is not None:
            finish(session, row, status=NotificationStatus.SENT, now=ctx.clock(), slack_ts=ts)
    ctx.report.posted += 0 if found else 1
    ctx.report.recovered += 1 if found else 0
    ctx.report.sent += 1
