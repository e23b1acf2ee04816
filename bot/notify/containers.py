"""Digest containers in use: open a burst window, fold new errors into it or into their cause group.

The rows and their keys are described in storage.digests. A burst window is open while its row is HELD (due
when the window closes); a cause group stays joinable while it is unposted or any of its errors is still open.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.notify.timing import DigestSettings, window_closes_at
from storage.digests import (
    BURST,
    has_open_member,
    latest_cause_group,
    member_key,
    new_burst,
    new_cause_group,
    open_window,
)
from storage.models import Notification, NotificationStatus
from storage.outbox import SINCE_KEY, set_since, update_payload


def kind_of(container: Notification) -> str:
    """BURST or CAUSE."""
    return str(container.payload.get("type", BURST))


# ---- burst windows -------------------------------------------------------------------------------------


def start_window(session: Session, *, channel: str, now: datetime, timing: DigestSettings) -> Notification:
    """Open a burst window in `channel` now (unless one is open already)."""
    existing = open_window(session, channel)
    if existing is not None:
        return existing
    closes = window_closes_at(timing, opened_at=now, held=0)
    return new_burst(session, channel=channel, now=now, status=NotificationStatus.HELD, due_at=closes)


def start_digest_now(session: Session, *, channel: str, now: datetime) -> Notification:
    """Open a burst digest that posts at once: a run brought many new causes together (one story)."""
    return new_burst(session, channel=channel, now=now, status=NotificationStatus.PENDING, due_at=now)


def hold(session: Session, *, container: Notification, member: Notification, timing: DigestSettings) -> None:
    """Fold a new error into a container; a burst window still open is extended."""
    hold_many(session, container=container, members=[member], timing=timing)


def hold_many(
    session: Session, *, container: Notification, members: Sequence[Notification], timing: DigestSettings
) -> None:
    """Fold new errors into a container in one flush; a burst window still open is extended."""
    assert container.id is not None
    key = member_key(container.id)
    for member in members:
        member.status = NotificationStatus.HELD
        member.digest_key = key
        member.claimed_at = None
        if SINCE_KEY in member.payload:
            set_since(member, None)
        session.add(member)
    if kind_of(container) == BURST:
        held = int(container.payload.get("held", 0)) + len(members)
        update_payload(container, held=held)
        if container.status == NotificationStatus.HELD:
            opened = datetime.fromisoformat(str(container.payload["opened_at"]))
            container.due_at = window_closes_at(timing, opened_at=opened, held=held)
        session.add(container)
    session.flush()


# ---- cause groups ----------------------------------------------------------------------------------------


def active_cause(session: Session, *, channel: str, cause: str) -> Notification | None:
    """The cause group new errors with this cause join: unposted, or posted with an error still open."""
    group = latest_cause_group(session, channel=channel, cause=cause)
    if group is None or group.status in (NotificationStatus.DROPPED, NotificationStatus.FAILED):
        return None
    if group.slack_ts is None or has_open_member(session, group):
        return group
    return None


def join_cause(
    session: Session, *, member: Notification, cause: str, now: datetime, timing: DigestSettings
) -> Notification:
    """Fold a new error into its cause group (opening one, or reopening a posted one for more pages)."""
    group = active_cause(session, channel=member.channel, cause=cause)
    if group is None:
        group = new_cause_group(session, channel=member.channel, cause=cause, now=now)
    elif group.status == NotificationStatus.SENT:
        group.status = NotificationStatus.PENDING
        group.due_at = now
        session.add(group)
    hold(session, container=group, member=member, timing=timing)
    return group
