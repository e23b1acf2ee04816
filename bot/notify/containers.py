"""Digest rows in the store: burst windows per channel, cause groups, and the new errors they hold.

A container is a DIGEST notification. Its `digest_key` says what it groups ("burst:<channel>" or
"cause:<hash of channel and cause_key>"); its members are NEW_ERROR rows whose `digest_key` is
"n<container id>".
A burst window is open while its row is HELD (due when the window closes); a cause group stays joinable while
it is unposted or any of its errors is still open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.notify.timing import DigestSettings, window_closes_at
from storage.models import ErrorStatus, Notification, NotificationKind, NotificationStatus, SyncError
from storage.outbox import SINCE_KEY, set_since, update_payload

BURST = "burst"
CAUSE = "cause"
_IN_CHUNK = 500
_UNPOSTED = (NotificationStatus.HELD, NotificationStatus.PENDING, NotificationStatus.SENDING)


def burst_key(channel: str) -> str:
    """Lookup key of a channel's burst windows."""
    return f"{BURST}:{channel}"


def cause_key(channel: str, cause: str) -> str:
    """Lookup key of the cause groups for one setup cause in one channel (fits the 64-character column)."""
    digest = hashlib.sha1(f"{channel}\x1f{cause}".encode()).hexdigest()
    return f"{CAUSE}:{digest}"


def member_key(container_id: int) -> str:
    """The digest_key members of a container carry."""
    return f"n{container_id}"


def container_id_of(key: str | None) -> int | None:
    """The container id a member's digest_key points at, if any."""
    if key and key.startswith("n") and key[1:].isdigit():
        return int(key[1:])
    return None


def kind_of(container: Notification) -> str:
    """BURST or CAUSE."""
    return str(container.payload.get("type", BURST))


# ---- burst windows -------------------------------------------------------------------------------------


def open_window(session: Session, channel: str) -> Notification | None:
    """The channel's burst window that new errors may still join, if one is open."""
    return session.exec(
        select(Notification)
        .where(
            col(Notification.kind) == NotificationKind.DIGEST,
            col(Notification.digest_key) == burst_key(channel),
            col(Notification.slack_ts).is_(None),
            col(Notification.status).in_(_UNPOSTED),
        )
        .order_by(col(Notification.id).desc())
        .limit(1)
    ).first()


def start_window(session: Session, *, channel: str, now: datetime, timing: DigestSettings) -> Notification:
    """Open a burst window in `channel` now (unless one is open already)."""
    existing = open_window(session, channel)
    if existing is not None:
        return existing
    window = Notification(
        kind=NotificationKind.DIGEST,
        status=NotificationStatus.HELD,
        channel=channel,
        digest_key=burst_key(channel),
        payload={"type": BURST, "opened_at": now.isoformat(), "held": 0},
        created_at=now,
        due_at=window_closes_at(timing, opened_at=now, held=0),
    )
    session.add(window)
    session.flush()
    return window


def start_digest_now(session: Session, *, channel: str, now: datetime) -> Notification:
    """Open a burst digest that posts at once: a run brought many new causes together (one story)."""
    digest = Notification(
        kind=NotificationKind.DIGEST,
        status=NotificationStatus.PENDING,
        channel=channel,
        digest_key=burst_key(channel),
        payload={"type": BURST, "opened_at": now.isoformat(), "held": 0},
        created_at=now,
        due_at=now,
    )
    session.add(digest)
    session.flush()
    return digest


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
    group = session.exec(
        select(Notification)
        .where(
            col(Notification.kind) == NotificationKind.DIGEST,
            col(Notification.digest_key) == cause_key(channel, cause),
        )
        .order_by(col(Notification.id).desc())
        .limit(1)
    ).first()
    if group is None or group.status in (NotificationStatus.DROPPED, NotificationStatus.FAILED):
        return None
    if group.slack_ts is None:
        return group
    assert group.id is not None
    still_open = session.exec(
        select(Notification.id)
        .join(SyncError, col(SyncError.id) == col(Notification.error_id))
        .where(
            col(Notification.digest_key) == member_key(group.id),
            col(Notification.status).in_((NotificationStatus.SENT, NotificationStatus.HELD)),
            col(SyncError.status) == ErrorStatus.OPEN,
        )
        .limit(1)
    ).first()
    return group if still_open is not None else None


def join_cause(
    session: Session, *, member: Notification, cause: str, now: datetime, timing: DigestSettings
) -> Notification:
    """Fold a new error into its cause group (opening one, or reopening a posted one for more pages)."""
    group = active_cause(session, channel=member.channel, cause=cause)
    if group is None:
        group = Notification(
            kind=NotificationKind.DIGEST,
            channel=member.channel,
            digest_key=cause_key(member.channel, cause),
            payload={"type": CAUSE, "cause_key": cause},
            created_at=now,
            due_at=now,
        )
        session.add(group)
        session.flush()
    elif group.status == NotificationStatus.SENT:
        group.status = NotificationStatus.PENDING
        group.due_at = now
        session.add(group)
    hold(session, container=group, member=member, timing=timing)
    return group


# ---- members ----------------------------------------------------------------------------------------------


def members(
    session: Session, container: Notification, *, status: NotificationStatus, limit: int | None = None
) -> list[tuple[Notification, SyncError | None]]:
    """Members of a container in one status, oldest first, each with its error (None once purged)."""
    assert container.id is not None
    query = (
        select(Notification)
        .where(col(Notification.digest_key) == member_key(container.id), col(Notification.status) == status)
        .order_by(col(Notification.id))
    )
    if limit is not None:
        query = query.limit(limit)
    rows = list(session.exec(query).all())
    errors = _errors_by_id(session, [row.error_id for row in rows if row.error_id is not None])
    return [(row, errors.get(row.error_id) if row.error_id is not None else None) for row in rows]


def count_members(
    session: Session, container: Notification, *, statuses: Sequence[NotificationStatus]
) -> int:
    """How many members of a container are in the given statuses."""
    assert container.id is not None
    return int(
        session.exec(
            select(func.count())
            .select_from(Notification)
            .where(
                col(Notification.digest_key) == member_key(container.id),
                col(Notification.status).in_(statuses),
            )
        ).one()
    )


def first_member_error(session: Session, container: Notification) -> SyncError | None:
    """The error of the container's oldest delivered or held member (the cause message's sample)."""
    assert container.id is not None
    return session.exec(
        select(SyncError)
        .join(Notification, col(Notification.error_id) == col(SyncError.id))
        .where(
            col(Notification.digest_key) == member_key(container.id),
            col(Notification.status).in_((NotificationStatus.SENT, NotificationStatus.HELD)),
        )
        .order_by(col(Notification.id))
        .limit(1)
    ).first()


def thread_of(session: Session, error: SyncError) -> Notification | None:
    """The digest or cause container whose thread lists this error, if it has no message of its own."""
    posted = session.exec(
        select(Notification)
        .where(
            col(Notification.error_id) == error.id,
            col(Notification.kind) == NotificationKind.NEW_ERROR,
            col(Notification.status) == NotificationStatus.SENT,
        )
        .order_by(col(Notification.id).desc())
        .limit(1)
    ).first()
    container_id = container_id_of(posted.digest_key) if posted is not None else None
    return session.get(Notification, container_id) if container_id is not None else None


def _errors_by_id(session: Session, ids: list[int]) -> dict[int, SyncError]:
    found: dict[int, SyncError] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        for error in session.exec(select(SyncError).where(col(SyncError.id).in_(chunk))).all():
            assert error.id is not None
            found[error.id] = error
    return found
