"""Fold a round's new errors at once, per channel, into the stories they tell (before anything is posted).

A run can store thousands of errors; folding them one claimed row at a time delays the first post until the
last row is reached. Here every due NEW_ERROR row is folded in one pass:
- errors of a setup cause that already has a live message join that message's thread;
- if more than FEW_CAUSES new stories arrived together, they all fold into one digest posted at once (the
  channel's open burst window, or a new one): counts by cause, category and mapping, the full list in its
  thread;
- if few, each new setup cause gets its cause message, and record-level errors stay pending: the first posts
  as its own message and opens the burst window, where the others wait (Sentry's rule, bot.notify.new_error).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlmodel import Session

from bot.notify import containers
from bot.notify.causes import story_of
from bot.notify.context import drop
from bot.notify.new_error import drop_reason
from bot.notify.report import DeliveryReport
from bot.notify.timing import DigestSettings
from storage import digests
from storage.errors import errors_by_ids
from storage.models import Notification, NotificationStatus, SyncError
from storage.outbox import lock_due_new_errors

FEW_CAUSES = 3  # at most this many new stories in a channel at once get a message each
FOLD_LIMIT = 20_000  # rows folded per round (the rest next round)
_OWN = "\x00own:"  # story key of an error shown on its own (never a cause key)


def fold_new_errors(
    session: Session, *, now: datetime, timing: DigestSettings, report: DeliveryReport
) -> None:
    """Fold every due NEW_ERROR row into its cause message, the open window, or a digest of many causes."""
    rows = lock_due_new_errors(session, now=now, limit=FOLD_LIMIT)
    if not rows:
        return
    errors = errors_by_ids(session, [row.error_id for row in rows if row.error_id is not None])
    by_channel: dict[str, list[tuple[Notification, SyncError]]] = defaultdict(list)
    for row in rows:
        error = errors.get(row.error_id) if row.error_id is not None else None
        reason = drop_reason(error)
        if reason is not None:
            drop(session, report, row, now=now, reason=reason)
            continue
        assert error is not None
        by_channel[row.channel].append((row, error))
    for channel, pending in by_channel.items():
        _fold_channel(session, channel, pending, now=now, timing=timing, report=report)


def _fold_channel(
    session: Session,
    channel: str,
    pending: list[tuple[Notification, SyncError]],
    *,
    now: datetime,
    timing: DigestSettings,
    report: DeliveryReport,
) -> None:
    stories: dict[str, list[Notification]] = defaultdict(list)
    for row, error in pending:
        assert row.id is not None
        story = story_of(error, row.payload.get("cause_key"))
        stories[story if story is not None else f"{_OWN}{row.id}"].append(row)
    new: dict[str, list[Notification]] = {}
    for story, members in stories.items():
        live = None if _own(story) else containers.active_cause(session, channel=channel, cause=story)
        if live is None:
            new[story] = members
        else:
            _join(session, story, members, now=now, timing=timing, report=report)
    if not new:
        return
    if len(new) > FEW_CAUSES:  # many causes at once: one story, told at once
        window = digests.open_window(session, channel)
        if window is None:
            window = containers.start_digest_now(session, channel=channel, now=now)
        members = [member for story in new.values() for member in story]
        containers.hold_many(session, container=window, members=members, timing=timing)
        report.held += len(members)
        if window.status == NotificationStatus.HELD:
            window.due_at = now  # the burst is evident: no reason to wait for the window to close
            session.add(window)
        return
    for story, members in new.items():
        if not _own(
            story
        ):  # an error of its own is left to deliver_new_error (posted, or held in the window)
            _join(session, story, members, now=now, timing=timing, report=report)


def _own(story: str) -> bool:
    return story.startswith(_OWN)


def _join(
    session: Session,
    story: str,
    members: list[Notification],
    *,
    now: datetime,
    timing: DigestSettings,
    report: DeliveryReport,
) -> None:
    group = containers.join_cause(session, member=members[0], cause=story, now=now, timing=timing)
    containers.hold_many(session, container=group, members=members[1:], timing=timing)
    report.held += len(members)
