"""Queries on digest rows: burst windows per channel, cause groups, and the new errors they hold.

A container is a DIGEST notification. Its `digest_key` says what it groups ("burst:<channel>" or
"cause:<hash of channel and cause_key>"); its members are NEW_ERROR rows whose `digest_key` is
"n<container id>".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.errors import errors_by_ids
from storage.models import ErrorStatus, Notification, NotificationKind, NotificationStatus, SyncError
from storage.outbox import last_sent

BURST = "burst"
CAUSE = "cause"
_UNPOSTED = (NotificationStatus.HELD, NotificationStatus.PENDING, NotificationStatus.SENDING)
_LISTED = (NotificationStatus.SENT, NotificationStatus.HELD)  # members a container's thread shows or will


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


def latest_cause_group(session: Session, *, channel: str, cause: str) -> Notification | None:
    """The newest cause group of one setup cause in one channel, whatever its status."""
    return session.exec(
        select(Notification)
        .where(
            col(Notification.kind) == NotificationKind.DIGEST,
            col(Notification.digest_key) == cause_key(channel, cause),
        )
        .order_by(col(Notification.id).desc())
        .limit(1)
    ).first()


def has_open_member(session: Session, container: Notification) -> bool:
    """True when a delivered or held member of the container is about an error still open."""
    assert container.id is not None
    found = session.exec(
        select(Notification.id)
        .join(SyncError, col(SyncError.id) == col(Notification.error_id))
        .where(
            col(Notification.digest_key) == member_key(container.id),
            col(Notification.status).in_(_LISTED),
            col(SyncError.status) == ErrorStatus.OPEN,
        )
        .limit(1)
    ).first()
    return found is not None


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
    errors = errors_by_ids(session, [row.error_id for row in rows if row.error_id is not None])
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
            col(Notification.digest_key) == member_key(container.id), col(Notification.status).in_(_LISTED)
        )
        .order_by(col(Notification.id))
        .limit(1)
    ).first()


def thread_of(session: Session, error: SyncError) -> Notification | None:
    """The digest or cause container whose thread lists this error, if it has no message of its own."""
    if error.id is None:
        return None
    posted = last_sent(session, error_id=error.id, kind=NotificationKind.NEW_ERROR)
    container_id = container_id_of(posted.digest_key) if posted is not None else None
    return session.get(Notification, container_id) if container_id is not None else None


def new_burst(
    session: Session, *, channel: str, now: datetime, status: NotificationStatus, due_at: datetime
) -> Notification:
    """Add a channel's burst digest opened now, in `status` and due at `due_at`."""
    digest = Notification(
        kind=NotificationKind.DIGEST,
        status=status,
        channel=channel,
        digest_key=burst_key(channel),
        payload={"type": BURST, "opened_at": now.isoformat(), "held": 0},
        created_at=now,
        due_at=due_at,
    )
    session.add(digest)
    session.flush()
    return digest


def new_cause_group(session: Session, *, channel: str, cause: str, now: datetime) -> Notification:
    """Add a cause group for one setup cause in one channel, due at once."""
    group = Notification(
        kind=NotificationKind.DIGEST,
        channel=channel,
        digest_key=cause_key(channel, cause),
        payload={"type": CAUSE, "cause_key": cause},
        created_at=now,
        due_at=now,
    )
    session.add(group)
    session.flush()
    return group
