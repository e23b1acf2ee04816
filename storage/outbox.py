"""The Slack outbox: notifications written in the same transaction as their cause, claimed for delivery.

Delivery bookkeeping lives in the row: `status`, `due_at`, `claimed_at`, `attempts`, `last_error`, and one key
in `payload`: `_since`, the earliest moment a post of the row's current step may have reached Slack. A row
that is claimed again while `_since` is set must be looked up in Slack before it is posted again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, delete, exists, func, literal, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import (
    LIVE_ERROR_STATUSES,
    Notification,
    NotificationKind,
    NotificationStatus,
    SyncError,
)
from storage.types import utcnow

SINCE_KEY = "_since"

_OPEN = (NotificationStatus.PENDING, NotificationStatus.HELD, NotificationStatus.SENDING)


def enqueue(
    session: Session,
    *,
    kind: NotificationKind,
    channel: str,
    error_id: int | None = None,
    payload: dict[str, Any] | None = None,
    due_at: datetime | None = None,
) -> Notification:
    """Add a pending notification to the outbox (the caller's transaction commits it with its cause)."""
    notification = Notification(
        kind=kind,
        channel=channel,
        error_id=error_id,
        payload=payload or {},
        due_at=due_at or utcnow(),
    )
    session.add(notification)
    session.flush()
    return notification


def enqueue_edit(session: Session, *, error: SyncError) -> Notification | None:
    """Queue the edit of an error's Slack message to show its state; None when it was never posted."""
    if not error.slack_channel or not error.slack_ts or error.id is None:
        return None
    return enqueue(session, kind=NotificationKind.UPDATE, channel=error.slack_channel, error_id=error.id)


def get_notification(session: Session, *, notification_id: int) -> Notification | None:
    """Return one outbox row by id, or None."""
    return session.get(Notification, notification_id)


def get_with_error(session: Session, *, notification_id: int) -> tuple[Notification | None, SyncError | None]:
    """An outbox row and the error it is about (None for either that no longer exists)."""
    row = get_notification(session, notification_id=notification_id)
    error = session.get(SyncError, row.error_id) if row is not None and row.error_id is not None else None
    return row, error


# ---- claiming -------------------------------------------------------------------------------------------


@dataclass
class Claim:
    """A row this delivery loop owns until it is finished or requeued."""

    id: int
    kind: NotificationKind
    channel: str
    previous: NotificationStatus  # status before the claim (HELD for a closing digest window)
    since: datetime  # earliest moment the current step's post may have reached Slack
    recovering: bool  # an earlier attempt may have posted: look it up before posting


def claim_due(
    session: Session,
    *,
    now: datetime,
    stale_before: datetime,
    limit: int,
    blocked_channels: frozenset[str] = frozenset(),
    paced_channels: frozenset[str] = frozenset(),
) -> list[Claim]:
    """Mark due rows SENDING (PENDING ones, closing digest windows, stale claims) and return them in id order.

    Uses FOR UPDATE SKIP LOCKED on PostgreSQL so parallel loops never claim the same row; SQLite ignores it.
    In `blocked_channels` (rate-limited) only new errors are claimed, since they may be folded without a call;
    in `paced_channels` (posted to a moment ago) rows that always post (repeats, lines, digests) wait.
    """
    due = or_(
        and_(col(Notification.status) == NotificationStatus.PENDING, col(Notification.due_at) <= now),
        and_(
            col(Notification.status) == NotificationStatus.HELD,
            col(Notification.kind) == NotificationKind.DIGEST,
            col(Notification.due_at) <= now,
        ),
        and_(
            col(Notification.status) == NotificationStatus.SENDING,
            col(Notification.claimed_at) < stale_before,
        ),
    )
    query = select(Notification).where(due)
    if blocked_channels:
        query = query.where(
            or_(
                col(Notification.channel).not_in(sorted(blocked_channels)),
                col(Notification.kind) == NotificationKind.NEW_ERROR,
            )
        )
    if paced_channels:
        query = query.where(
            or_(
                col(Notification.channel).not_in(sorted(paced_channels)),
                col(Notification.kind).in_((NotificationKind.NEW_ERROR, NotificationKind.UPDATE)),
            )
        )
    rows = session.exec(
        query.order_by(col(Notification.id)).limit(limit).with_for_update(skip_locked=True)
    ).all()
    claims = []
    for row in rows:
        since = since_of(row)
        recovering = since is not None or row.status == NotificationStatus.SENDING
        if since is None:
            since = row.claimed_at if row.status == NotificationStatus.SENDING and row.claimed_at else now
            set_since(row, since)
        assert row.id is not None
        claims.append(Claim(row.id, row.kind, row.channel, row.status, since, recovering))
        row.status = NotificationStatus.SENDING
        row.claimed_at = now
        session.add(row)
    session.flush()
    return claims


def since_of(row: Notification) -> datetime | None:
    """The row's `_since` marker, if an attempt of its current step may have reached Slack."""
    value = row.payload.get(SINCE_KEY)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def set_since(row: Notification, moment: datetime | None) -> None:
    """Set (or clear, with None) the row's `_since` marker."""
    payload = {k: v for k, v in row.payload.items() if k != SINCE_KEY}
    if moment is not None:
        payload[SINCE_KEY] = moment.isoformat()
    row.payload = payload


def update_payload(row: Notification, **values: Any) -> None:
    """Replace payload keys (JSON columns only notice whole new values)."""
    row.payload = {**row.payload, **values}


# ---- outcomes ---------------------------------------------------------------------------------------------


def finish(
    session: Session,
    row: Notification,
    *,
    status: NotificationStatus,
    now: datetime,
    slack_ts: str | None = None,
    reason: str | None = None,
) -> None:
    """Close a row: SENT (with its ts), DROPPED or FAILED (with the reason)."""
    row.status = status
    row.claimed_at = None
    set_since(row, None)
    if slack_ts is not None:
        row.slack_ts = slack_ts
    if status == NotificationStatus.SENT:
        row.sent_at = now
    if reason is not None:
        row.last_error = reason[:500]
    session.add(row)
    session.flush()


def requeue(
    session: Session,
    *,
    claim: Claim,
    due_at: datetime,
    attempted: bool,
    reason: str | None = None,
) -> Notification | None:
    """Give a claimed row back with a due time; keep `_since` only if a post may have reached Slack."""
    row = session.get(Notification, claim.id, with_for_update=True)
    if row is None or row.status != NotificationStatus.SENDING:
        return row
    row.status = NotificationStatus.PENDING
    row.due_at = due_at
    row.claimed_at = None
    if attempted:
        row.attempts += 1
    if reason is not None:
        row.last_error = reason[:500]
    set_since(row, claim.since if claim.recovering else None)
    session.add(row)
    session.flush()
    return row


def release(session: Session, *, claim: Claim) -> None:
    """Give back a claimed row this loop did not get to, in the state it was claimed from."""
    row = session.get(Notification, claim.id, with_for_update=True)
    if row is None or row.status != NotificationStatus.SENDING:
        return
    if claim.previous in (NotificationStatus.PENDING, NotificationStatus.HELD):
        row.status = claim.previous
    else:
        row.status = NotificationStatus.PENDING
    row.claimed_at = None
    set_since(row, claim.since if claim.recovering else None)
    session.add(row)
    session.flush()


# ---- counters --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxCounts:
    """Rows per delivery state, for /metrics."""

    pending: int
    held: int
    sending: int
    sent: int
    dropped: int
    failed: int

    @property
    def waiting(self) -> int:
        """Rows not delivered yet (pending, held in a digest, or being sent)."""
        return self.pending + self.held + self.sending


def outbox_counts(session: Session) -> OutboxCounts:
    """Count outbox rows per status (digest windows that hold nothing yet are not counted as held)."""
    rows = session.exec(
        select(Notification.status, func.count())
        .where(
            or_(
                col(Notification.status) != NotificationStatus.HELD,
                col(Notification.kind) != NotificationKind.DIGEST,
            )
        )
        .group_by(Notification.status)
    ).all()
    counts = {str(status): int(count) for status, count in rows}
    return OutboxCounts(**{s.value: counts.get(s.value, 0) for s in NotificationStatus})


def pending_count(session: Session) -> int:
    """Notifications not delivered yet: pending, held in a digest, or being sent."""
    counts = outbox_counts(session)
    return counts.pending + counts.held + counts.sending


def open_kinds(
    session: Session, *, error_id: int, kind: NotificationKind, newer_than: int
) -> list[Notification]:
    """Undelivered rows of one kind for one error with an id above `newer_than` (to coalesce follow-ups)."""
    return list(
        session.exec(
            select(Notification).where(
                col(Notification.error_id) == error_id,
                col(Notification.kind) == kind,
                col(Notification.id) > newer_than,
                col(Notification.status).in_(_OPEN),
            )
        ).all()
    )


def last_sent(session: Session, *, error_id: int, kind: NotificationKind) -> Notification | None:
    """The newest delivered row of one kind for one error, if any."""
    return session.exec(
        select(Notification)
        .where(
            col(Notification.error_id) == error_id,
            col(Notification.kind) == kind,
            col(Notification.status) == NotificationStatus.SENT,
        )
        .order_by(col(Notification.id).desc())
        .limit(1)
    ).first()


def lock_due_new_errors(session: Session, *, now: datetime, limit: int) -> list[Notification]:
    """Pending NEW_ERROR rows due by `now`, oldest first, locked (SKIP LOCKED) for folding."""
    return list(
        session.exec(
            select(Notification)
            .where(
                col(Notification.kind) == NotificationKind.NEW_ERROR,
                col(Notification.status) == NotificationStatus.PENDING,
                col(Notification.due_at) <= now,
            )
            .order_by(col(Notification.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


_FINISHED = (NotificationStatus.SENT, NotificationStatus.DROPPED, NotificationStatus.FAILED)


def delete_finished(session: Session, *, older_than: datetime) -> int:
    """Delete delivered, dropped and failed outbox rows created before `older_than`; return how many.

    Rows about an error that is still open or snoozed are kept, and so is a digest whose thread still lists
    one (later edits of those errors find their message through them).
    """
    member = aliased(Notification)
    live_member = exists(
        select(member.id)
        .join(SyncError, col(SyncError.id) == member.error_id)
        .where(
            member.digest_key == literal("n") + cast(Notification.id, String),
            col(SyncError.status).in_(LIVE_ERROR_STATUSES),
        )
    )
    live_error = exists(
        select(SyncError.id).where(
            col(SyncError.id) == Notification.error_id, col(SyncError.status).in_(LIVE_ERROR_STATUSES)
        )
    )
    statement = delete(Notification).where(
        col(Notification.status).in_(_FINISHED),
        col(Notification.created_at) < older_than,
        ~live_error,
        ~and_(col(Notification.kind) == NotificationKind.DIGEST, live_member),
    )
    return int(session.exec(statement).rowcount or 0)
