"""TEXT: post a plain line (cleanup counts, health alerts, summaries), optionally in a thread."""

from __future__ import annotations

from bot.notify.context import Context, drop, mark_sent
from bot.notify.slack import Post
from storage.db import session_scope
from storage.outbox import Claim, get_notification


def deliver_text(ctx: Context, claim: Claim) -> None:
    """Post payload["text"] in the row's channel (in payload["thread_ts"]'s thread if given)."""
    with session_scope(ctx.db) as session:
        row = get_notification(session, notification_id=claim.id)
        if row is None:
            return
        text = str(row.payload.get("text") or "")
        thread_ts = row.payload.get("thread_ts")
        if not text:
            drop(session, ctx.report, row, now=ctx.clock(), reason="no text")
            return
    post = Post(
        channel=claim.channel,
        message=ctx.render.build_text(text),
        notification_id=claim.id,
        thread_ts=str(thread_ts) if thread_ts else None,
    )
    ts, found = ctx.slack.post(post, claim)
    mark_sent(ctx, notification_id=claim.id, ts=ts)
    ctx.report.count_post(found=found)
