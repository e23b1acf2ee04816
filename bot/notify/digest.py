"""DIGEST: deliver a closed burst window or a cause group, one Slack call per step, resumable after a crash.

Steps: the parent message (a digest, a cause message, or, for a window that held one error, that error's own
message), then the member list as thread pages, then (cause groups) the parent's count edited. Each post is
tagged with the row id and step number; progress is committed after every step.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.notify import containers
from bot.notify.context import Context, drop
from bot.notify.new_error import record_own_message
from bot.notify.render import Message
from bot.notify.slack import Post
from storage import digests
from storage.db import session_scope
from storage.models import ErrorStatus, Notification, NotificationStatus, SyncError
from storage.outbox import Claim, finish, get_notification, get_with_error, set_since, update_payload

MAX_BLOCKS = 50  # Block Kit: blocks per message
MAX_TEXT = 4000  # keep fallback text well inside chat.postMessage's limit


@dataclass(frozen=True)
class _Single:
    member_id: int
    message: Message


@dataclass(frozen=True)
class _Parent:
    message: Message
    count: int
    pages: int


@dataclass(frozen=True)
class _Page:
    member_ids: tuple[int, ...]
    message: Message
    page: int
    pages: int


@dataclass(frozen=True)
class _Refresh:
    message: Message
    count: int


_Plan = _Single | _Parent | _Page | _Refresh


def deliver_container(ctx: Context, claim: Claim) -> None:
    """Deliver one claimed DIGEST row as far as pacing allows (a paced step raises Deferred)."""
    while True:
        now = ctx.clock()
        with session_scope(ctx.db) as session:
            group = get_notification(session, notification_id=claim.id)
            if group is None:
                return
            plan = _plan(session, ctx, group, now)
            thread_ts = group.slack_ts
        if plan is None:
            return
        _run(ctx, claim, plan, thread_ts)


def _plan(session: Session, ctx: Context, group: Notification, now: datetime) -> _Plan | None:
    if group.slack_ts is None:
        return _opening(session, ctx, group, now)
    return _continuing(session, ctx, group, now)


def _opening(session: Session, ctx: Context, group: Notification, now: datetime) -> _Plan | None:
    kept: list[tuple[Notification, SyncError]] = []
    for member, error in digests.members(session, group, status=NotificationStatus.HELD):
        if error is None or error.status != ErrorStatus.OPEN:
            reason = (
                "error entry no longer exists"
                if error is None
                else f"error is {error.status} before it was posted"
            )
            drop(session, ctx.report, member, now=now, reason=reason)
        else:
            kept.append((member, error))
    if not kept:
        finish(session, group, status=NotificationStatus.DROPPED, now=now, reason="nothing left to post")
        return None
    errors = [error for _, error in kept]
    if len(kept) == 1:
        # One error is shown as its own message, with the buttons of its category, burst or cause alike.
        member_id = kept[0][0].id
        assert member_id is not None
        return _Single(member_id, ctx.render.build_error_message(errors[0], locale=ctx.locale))
    if containers.kind_of(group) == digests.BURST:
        message = ctx.render.build_digest_message(errors, locale=ctx.locale)
    else:
        message = ctx.render.build_cause_message(errors[0], len(errors), locale=ctx.locale)
    return _Parent(message, count=len(errors), pages=math.ceil(len(errors) / ctx.page_size))


def _continuing(session: Session, ctx: Context, group: Notification, now: datetime) -> _Plan | None:
    while True:
        batch = digests.members(session, group, status=NotificationStatus.HELD, limit=ctx.page_size)
        if not batch:
            break
        listed = []
        for member, error in batch:
            if error is None:
                drop(session, ctx.report, member, now=now, reason="error entry no longer exists")
            else:
                listed.append((member, error))
        if not listed:
            continue
        return _page_plan(session, ctx, group, listed)
    if containers.kind_of(group) == digests.CAUSE:
        count = digests.count_members(session, group, statuses=(NotificationStatus.SENT,))
        sample = digests.first_member_error(session, group)
        if sample is not None and count != int(group.payload.get("count_shown", 0)):
            return _Refresh(ctx.render.build_cause_message(sample, count, locale=ctx.locale), count)
    finish(session, group, status=NotificationStatus.SENT, now=now)
    ctx.report.sent += 1
    return None


def _page_plan(
    session: Session, ctx: Context, group: Notification, listed: list[tuple[Notification, SyncError]]
) -> _Page:
    sent = int(group.payload.get("pages_sent", 0))
    remaining = digests.count_members(session, group, statuses=(NotificationStatus.HELD,))
    page = sent + 1
    pages = max(int(group.payload.get("pages", 0)), sent + math.ceil(remaining / ctx.page_size), page)

    def render(chunk: Sequence[SyncError]) -> Message:
        return ctx.render.build_digest_page(chunk, page=page, pages=pages, locale=ctx.locale)

    message, size = _fit(render, [error for _, error in listed])
    ids = tuple(member.id for member, _ in listed[:size] if member.id is not None)
    return _Page(ids, message, page, pages)


def _fit(render: Callable[[Sequence[SyncError]], Message], errors: list[SyncError]) -> tuple[Message, int]:
    """The largest first part of `errors` whose page lists every one of them inside Slack's limits."""
    size = len(errors)
    while True:
        message = render(errors[:size])
        if size == 1 or (
            len(message.blocks) <= MAX_BLOCKS
            and len(message.text) <= MAX_TEXT
            and _lists_all(message, errors[:size])
        ):
            return message, size
        size = max(1, size * 3 // 4)


def _lists_all(message: Message, errors: Sequence[SyncError]) -> bool:
    shown = json.dumps(message.to_dict(), ensure_ascii=False)
    return all(f"`#{error.id}`" in shown for error in errors)


def _run(ctx: Context, claim: Claim, plan: _Plan, thread_ts: str | None) -> None:
    if isinstance(plan, _Refresh):
        assert thread_ts is not None
        ctx.slack.update(claim.channel, thread_ts, plan.message)
        ctx.report.updated += 1
        with session_scope(ctx.db) as session:
            group = get_notification(session, notification_id=claim.id)
            if group is not None:
                update_payload(group, count_shown=plan.count)
                session.add(group)
        return
    if isinstance(plan, _Single):
        post = Post(channel=claim.channel, message=plan.message, notification_id=plan.member_id)
    elif isinstance(plan, _Parent):
        post = Post(channel=claim.channel, message=plan.message, notification_id=claim.id)
    else:
        post = Post(claim.channel, plan.message, claim.id, step=plan.page, thread_ts=thread_ts)
    ts, found = ctx.slack.post(post, claim)
    ctx.report.count_post(found=found)
    now = ctx.clock()
    with session_scope(ctx.db) as session:
        group = get_notification(session, notification_id=claim.id)
        if group is None:
            return
        if isinstance(plan, _Single):
            finish(session, group, status=NotificationStatus.SENT, now=now, slack_ts=ts)
            record_own_message(session, ctx, notification_id=plan.member_id, ts=ts, now=now)
            ctx.report.sent += 2
            return
        if isinstance(plan, _Parent):
            group.slack_ts = ts
            update_payload(group, pages=plan.pages, pages_sent=0, count_shown=plan.count)
            if containers.kind_of(group) == digests.BURST:
                session.add(group)
                session.flush()
                containers.start_window(session, channel=group.channel, now=now, timing=ctx.timing)
        else:
            _record_page(session, ctx, group, plan, ts, now)
        set_since(group, now)
        group.attempts = 0  # a step went through: the next one starts with a clean slate
        claim.since = now
        session.add(group)


def _record_page(
    session: Session, ctx: Context, group: Notification, plan: _Page, ts: str, now: datetime
) -> None:
    for member_id in plan.member_ids:
        member, error = get_with_error(session, notification_id=member_id)
        if member is None:
            continue
        finish(session, member, status=NotificationStatus.SENT, now=now, slack_ts=ts)
        ctx.report.sent += 1
        if error is not None:
            error.slack_channel = group.channel
            error.slack_ts = ts
            session.add(error)
    update_payload(group, pages_sent=plan.page, pages=max(plan.pages, int(group.payload.get("pages", 0))))
