"""Helpers of the delivery tests: a movable clock, stored errors with their outbox rows, a loop driver."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.notify import DeliveryReport, OutboxDelivery, pending_count
from storage.db import session_scope
from storage.models import Notification, NotificationKind, NotificationStatus, SyncError
from storage.outbox import enqueue
from tests.factories import make_error
from tests.fakes.slack_api import FakeSlack, RecordedCall

T0 = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)
CHANNEL = "C0SYNC"


class FakeClock:
    """A thread-safe clock for the loop (datetime) and the stand-in (epoch seconds)."""

    def __init__(self, start: datetime) -> None:
        self._moment = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current moment."""
        with self._lock:
            return self._moment

    def timestamp(self) -> float:
        """The current moment as epoch seconds."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        """Move forward."""
        with self._lock:
            self._moment += timedelta(seconds=seconds)

    def move_to(self, moment: datetime) -> None:
        """Jump to a later moment (never backwards)."""
        with self._lock:
            self._moment = max(self._moment, moment)


def new_error(
    engine: Engine, clock: FakeClock, *, channel: str = CHANNEL, cause: str | None = None, **fields: Any
) -> int:
    """Store an error and its NEW_ERROR row in one transaction, as the engine does; return the error id."""
    with session_scope(engine) as session:
        error = make_error(session, created_at=clock.now(), **fields)
        assert error.id is not None
        payload = {"cause_key": cause} if cause else {}
        enqueue(
            session,
            kind=NotificationKind.NEW_ERROR,
            channel=channel,
            error_id=error.id,
            payload=payload,
            due_at=clock.now(),
        )
        return error.id


def follow_up(engine: Engine, clock: FakeClock, error_id: int, kind: NotificationKind, **payload: Any) -> int:
    """Enqueue a REPEAT/UPDATE/TEXT row now (a repeat also counts one more occurrence); return its id."""
    with session_scope(engine) as session:
        error = session.get(SyncError, error_id)
        assert error is not None
        if kind == NotificationKind.REPEAT:
            error.occurrences += 1
            error.last_seen_at = clock.now()
            session.add(error)
        row = enqueue(
            session,
            kind=kind,
            channel=error.slack_channel or CHANNEL,
            error_id=error_id,
            payload=payload,
            due_at=clock.now(),
        )
        assert row.id is not None
        return row.id


def next_due(engine: Engine) -> datetime | None:
    """The earliest due time of a row the loop will claim (pending rows and digest windows)."""
    with Session(engine) as session:
        moment = session.exec(
            select(func.min(Notification.due_at)).where(
                or_(
                    col(Notification.status) == NotificationStatus.PENDING,
                    and_(
                        col(Notification.status) == NotificationStatus.HELD,
                        col(Notification.kind) == NotificationKind.DIGEST,
                    ),
                )
            )
        ).one()
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def drive(
    delivery: OutboxDelivery,
    engine: Engine,
    clock: FakeClock,
    *,
    until: datetime | None = None,
    rounds: int = 5000,
) -> DeliveryReport:
    """Run rounds like the scheduler (clock +1 s, or straight to the next due row) until all is delivered.

    With `until`, stop once the clock has passed it even if rows are still waiting.
    """
    total = DeliveryReport()
    for _ in range(rounds):
        report = delivery.deliver_due()
        total.add(report)
        with Session(engine) as session:
            waiting = pending_count(session)
        if until is not None and clock.now() >= until:
            return total
        if waiting == 0 and report.claimed == 0:
            return total
        due = next_due(engine)
        clock.advance(1)
        if report.claimed == 0 and due is not None:
            clock.move_to(due if until is None else min(due, until))
    raise AssertionError("outbox did not drain")


def posts(slack: FakeSlack) -> list[RecordedCall]:
    """chat.postMessage calls that Slack accepted."""
    return [c for c in slack.calls("chat.postMessage") if c.status == 200 and c.response.get("ok")]


def assert_paced(slack: FakeSlack, *, seconds: float = 1.0) -> None:
    """Every two chat.postMessage attempts in one channel are at least `seconds` apart on the clock."""
    by_channel: dict[str, list[float]] = {}
    for call in slack.calls("chat.postMessage"):
        by_channel.setdefault(str(call.body.get("channel")), []).append(call.at)
    for channel, moments in by_channel.items():
        gaps = [later - earlier for earlier, later in zip(moments, moments[1:], strict=False)]
        assert all(gap >= seconds - 1e-6 for gap in gaps), f"{channel} posted faster than 1/s: {min(gaps)}"


def assert_no_duplicate_posts(slack: FakeSlack) -> None:
    """No (notification, step) was posted twice."""
    tags = Counter(
        (
            m.metadata["event_payload"]["notification_id"],
            m.metadata["event_payload"].get("step", 0),
        )
        for channel in {str(c.body.get("channel")) for c in slack.calls("chat.postMessage")}
        for m in slack.messages(channel)
        if m.metadata
    )
    assert [tag for tag, count in tags.items() if count > 1] == []


def statuses(engine: Engine) -> Counter[str]:
    """Outbox rows per (kind, status)."""
    with Session(engine) as session:
        rows = session.exec(select(Notification.kind, Notification.status)).all()
    return Counter(f"{kind}:{status}" for kind, status in rows)
