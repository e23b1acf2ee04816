"""One error, its repeats, its updates and plain lines, delivered through the Slack stand-in."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.notify import OutboxDelivery, outbox_counts, pending_count
from storage.db import session_scope
from storage.errors import resolve_error
from storage.models import ErrorStatus, Notification, NotificationKind, NotificationStatus, SyncError
from storage.outbox import enqueue
from tests.bot.notify.helpers import CHANNEL, FakeClock, follow_up, new_error, posts
from tests.fakes.slack_api import FakeSlack


def _error(engine: Engine, error_id: int) -> SyncError:
    with Session(engine) as session:
        error = session.get(SyncError, error_id)
        assert error is not None
        return error


def test_single_error_posts_once_with_metadata_and_stores_channel_and_ts(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    error_id = new_error(engine, clock)

    report = delivery.deliver_due()
    again = delivery.deliver_due()

    assert (report.posted, report.sent, again.claimed) == (1, 1, 0)
    [call] = slack.calls("chat.postMessage")
    assert call.body["channel"] == CHANNEL
    assert call.body["metadata"]["event_type"] == "sync_error_notification"
    with Session(engine) as session:
        row = session.get(Notification, 1)
        assert row is not None
        assert call.body["metadata"]["event_payload"] == {"notification_id": row.id}
        assert (row.status, row.slack_ts, row.claimed_at) == (
            NotificationStatus.SENT,
            call.response["ts"],
            None,
        )
        assert "_since" not in row.payload
        assert pending_count(session) == 0
        assert outbox_counts(session).sent == 1
    error = _error(engine, error_id)
    assert (error.slack_channel, error.slack_ts) == (CHANNEL, call.response["ts"])
    assert call.body["blocks"] and call.body["text"]
    assert call.headers["authorization"] == "Bearer xoxb-test"


def test_repeat_replies_in_the_thread_and_edits_the_parent(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    error_id = new_error(engine, clock)
    delivery.deliver_due()
    parent_ts = _error(engine, error_id).slack_ts
    assert parent_ts is not None
    clock.advance(5)
    repeat_id = follow_up(engine, clock, error_id, NotificationKind.REPEAT)

    report = delivery.deliver_due()

    assert (report.posted, report.updated) == (1, 1)
    [reply] = slack.thread(CHANNEL, parent_ts)
    assert reply.metadata is not None and reply.metadata["event_payload"]["notification_id"] == repeat_id
    [update] = slack.calls("chat.update")
    assert (update.body["channel"], update.body["ts"]) == (CHANNEL, parent_ts)
    parent = slack.message(CHANNEL, parent_ts)
    assert parent is not None and parent.edited
    assert "2" in str(update.body["blocks"])  # the occurrences count is re-rendered


def test_repeats_close_together_coalesce_into_one_reply(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    error_id = new_error(engine, clock)
    delivery.deliver_due()
    parent_ts = _error(engine, error_id).slack_ts
    assert parent_ts is not None
    clock.advance(2)
    follow_up(engine, clock, error_id, NotificationKind.REPEAT)
    delivery.deliver_due()
    for _ in range(5):
        clock.advance(2)
        follow_up(engine, clock, error_id, NotificationKind.REPEAT)
        delivery.deliver_due()
    assert len(slack.thread(CHANNEL, parent_ts)) == 1

    clock.advance(60)
    delivery.deliver_due()

    replies = slack.thread(CHANNEL, parent_ts)
    assert len(replies) == 2
    with Session(engine) as session:
        counts = outbox_counts(session)
    assert (counts.pending, counts.sent, counts.dropped) == (0, 3, 4)  # parent, two replies; four folded


def test_repeat_before_the_parent_is_posted_is_dropped(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    first = new_error(engine, clock)
    delivery.deliver_due()  # the first error opens the burst window
    held = new_error(engine, clock)
    delivery.deliver_due()
    follow_up(engine, clock, held, NotificationKind.REPEAT)
    clock.advance(1)  # the channel was just posted to

    report = delivery.deliver_due()

    assert report.dropped == 1
    assert _error(engine, held).slack_ts is None
    assert len(slack.calls("chat.postMessage")) == 1 and _error(engine, first).slack_ts


def test_update_edits_the_parent_in_place(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    error_id = new_error(engine, clock)
    delivery.deliver_due()
    with session_scope(engine) as session:
        error = session.get(SyncError, error_id)
        assert error is not None
        resolve_error(session, error=error, by="U1", resolution="re-synced", now=clock.now())
        enqueue(session, kind=NotificationKind.UPDATE, channel=CHANNEL, error_id=error_id, due_at=clock.now())

    report = delivery.deliver_due()

    assert (report.updated, report.posted) == (1, 0)
    [update] = slack.calls("chat.update")
    assert update.body["ts"] == _error(engine, error_id).slack_ts
    assert "U1" in str(update.body["blocks"])  # "Resolved by @U1"
    assert len(slack.calls("chat.postMessage")) == 1


def test_error_resolved_or_purged_before_posting_is_dropped(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    resolved = new_error(engine, clock)
    purged = new_error(engine, clock)
    with session_scope(engine) as session:
        error = session.get(SyncError, resolved)
        assert error is not None
        error.status = ErrorStatus.RESOLVED
        session.add(error)
        gone = session.get(SyncError, purged)
        session.delete(gone)

    report = delivery.deliver_due()

    assert (report.dropped, report.posted) == (2, 0)
    assert slack.calls("chat.postMessage") == []


def test_text_posts_its_line_in_the_channel_or_a_thread(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    with session_scope(engine) as session:
        enqueue(
            session,
            kind=NotificationKind.TEXT,
            channel=CHANNEL,
            payload={"text": "Purged 12 entries"},
            due_at=clock.now(),
        )
    delivery.deliver_due()
    [parent] = slack.messages(CHANNEL)
    with session_scope(engine) as session:
        enqueue(
            session,
            kind=NotificationKind.TEXT,
            channel=CHANNEL,
            payload={"text": "More detail", "thread_ts": parent.ts},
            due_at=clock.now(),
        )

    clock.advance(1)
    delivery.deliver_due()

    assert parent.text == "Purged 12 entries"
    [reply] = slack.thread(CHANNEL, parent.ts)
    assert reply.text == "More detail"
    assert len(posts(slack)) == 2


def test_repeat_of_a_snoozed_error_stays_quiet(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    error_id = new_error(engine, clock)
    delivery.deliver_due()
    with session_scope(engine) as session:
        error = session.get(SyncError, error_id)
        assert error is not None
        error.status = ErrorStatus.SNOOZED
        session.add(error)
    clock.advance(5)
    follow_up(engine, clock, error_id, NotificationKind.REPEAT)

    report = delivery.deliver_due()

    assert (report.dropped, report.posted, report.updated) == (1, 0, 0)
    assert len(slack.calls("chat.postMessage")) == 1
