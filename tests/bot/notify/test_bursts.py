"""Bursts fold into one digest (Sentry's rule); many records with one setup cause become one cause message."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.notify import OutboxDelivery, pending_count
from storage.db import session_scope
from storage.models import Category, Notification, NotificationKind, NotificationStatus, SyncError
from storage.outbox import enqueue
from tests.bot.notify.helpers import (
    CHANNEL,
    T0,
    FakeClock,
    assert_no_duplicate_posts,
    assert_paced,
    drive,
    new_error,
    posts,
    statuses,
)
from tests.fakes.slack_api import FakeSlack

MAX_BLOCKS = 50
MAX_BLOCK_CHARS = 12_000


def _errors(engine: Engine) -> list[SyncError]:
    with Session(engine) as session:
        return list(session.exec(select(SyncError).order_by(col(SyncError.id))).all())


def test_a_run_of_500_record_errors_posts_one_digest_at_once_with_the_list_in_its_thread(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    ids = [new_error(engine, clock, mapping="CUSTOMER" if n % 3 else "CONTACT") for n in range(500)]
    slack.fail_next("chat.postMessage", status=429, retry_after=3)  # the very first post is refused

    delivery.deliver_due()
    clock.advance(3)
    delivery.deliver_due()

    [first] = posts(slack)
    assert first.body["metadata"]["event_payload"]["notification_id"] == 501  # the digest, not error 1
    assert first.at == T0.timestamp() + 3  # Retry-After honoured, then at once
    assert "500" in first.body["text"]
    drive(delivery, engine, clock)

    [digest] = slack.messages(CHANNEL, include_replies=False)
    pages = slack.thread(CHANNEL, digest.ts)
    assert len(pages) == 13  # 500 errors, 40 per page
    for page in pages:
        assert page.blocks is not None and len(page.blocks) <= MAX_BLOCKS
        assert len(json.dumps(page.blocks)) <= MAX_BLOCK_CHARS
    errors = _errors(engine)
    assert len(errors) == 500 == len(ids)
    assert {e.slack_ts for e in errors} == {page.ts for page in pages}  # each error points at its page
    listed_ids = [
        int(part.split("`")[0]) for page in pages for part in json.dumps(page.blocks).split("`#")[1:]
    ]
    assert sorted(listed_ids) == [e.id for e in errors]  # each error listed once
    assert_paced(slack)
    assert_no_duplicate_posts(slack)
    with Session(engine) as session:
        assert pending_count(session) == 0
    counts = statuses(engine)
    assert counts["new_error:sent"] == 500
    assert counts["new_error:failed"] == counts["new_error:dropped"] == 0

    clock.advance(60)
    new_error(engine, clock)  # a straggler waits in the window the digest opened (Sentry's rule)
    delivery.deliver_due()
    assert len(slack.messages(CHANNEL, include_replies=False)) == 1
    drive(delivery, engine, clock)
    assert len(slack.messages(CHANNEL, include_replies=False)) == 2


def test_a_few_errors_at_once_post_the_first_and_hold_the_rest_in_the_window(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    for _ in range(3):
        new_error(engine, clock)

    delivery.deliver_due()

    assert len(posts(slack)) == 1
    drive(delivery, engine, clock)
    top = slack.messages(CHANNEL, include_replies=False)
    assert len(top) == 2  # the first error, then the window's digest of two
    assert float(top[1].ts) == (T0 + timedelta(seconds=300 + 2 * 30)).timestamp()


def test_many_causes_arriving_while_the_window_is_open_post_the_digest_at_once(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    new_error(engine, clock)
    delivery.deliver_due()  # posted; the window opens
    clock.advance(20)
    for _ in range(10):
        new_error(engine, clock)

    delivery.deliver_due()

    top = slack.messages(CHANNEL, include_replies=False)
    assert len(top) == 2  # no waiting for the window: the burst is evident
    assert "10" in (top[1].text or "")


def test_window_closes_min_after_opening_plus_step_per_held_error(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    new_error(engine, clock)
    delivery.deliver_due()
    for _ in range(3):
        clock.advance(10)
        new_error(engine, clock)
        delivery.deliver_due()

    drive(delivery, engine, clock, until=T0 + timedelta(seconds=300 + 3 * 30 - 1))
    assert len(posts(slack)) == 1
    drive(delivery, engine, clock)

    top = slack.messages(CHANNEL, include_replies=False)
    assert len(top) == 2
    assert float(top[1].ts) == (T0 + timedelta(seconds=390)).timestamp()
    assert len(slack.thread(CHANNEL, top[1].ts)) == 1


def test_window_holding_one_error_posts_it_as_a_normal_message(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    first = new_error(engine, clock)
    delivery.deliver_due()
    clock.advance(20)
    second = new_error(engine, clock)

    drive(delivery, engine, clock)

    top = slack.messages(CHANNEL, include_replies=False)
    assert len(top) == 2 and slack.thread(CHANNEL, top[1].ts) == []
    errors = {e.id: e for e in _errors(engine)}
    assert errors[first].slack_ts == top[0].ts and errors[second].slack_ts == top[1].ts
    assert top[1].metadata is not None and top[1].metadata["event_payload"]["notification_id"] == 3
    assert float(top[1].ts) == (T0 + timedelta(seconds=330)).timestamp()


def test_a_quiet_channel_posts_at_once_again_after_the_window(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    new_error(engine, clock)
    delivery.deliver_due()
    clock.advance(301)
    delivery.deliver_due()  # the empty window closes
    new_error(engine, clock)

    delivery.deliver_due()

    assert len(posts(slack)) == 2


def test_200_errors_with_one_cause_become_one_cause_message_with_the_list_in_its_thread(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    cause = "permissions:prvCreateAccount"
    for _ in range(200):
        new_error(engine, clock, cause=cause)

    drive(delivery, engine, clock)

    [parent] = slack.messages(CHANNEL, include_replies=False)
    assert "200" in (parent.text or "")
    pages = slack.thread(CHANNEL, parent.ts)
    assert len(pages) == 5  # 40 a page
    assert {e.slack_ts for e in _errors(engine)} == {page.ts for page in pages}
    assert_paced(slack)

    clock.advance(600)
    for _ in range(5):
        new_error(engine, clock, cause=cause)
    drive(delivery, engine, clock)

    assert len(slack.messages(CHANNEL, include_replies=False)) == 1  # still one message
    assert len(slack.thread(CHANNEL, parent.ts)) == 6
    [edit] = slack.calls("chat.update")
    assert edit.body["ts"] == parent.ts and "205" in edit.body["text"]
    assert_no_duplicate_posts(slack)


def test_a_cause_whose_errors_are_all_resolved_starts_a_new_cause_message(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    cause = "credentials:AADSTS50055"
    first = new_error(engine, clock, cause=cause)
    drive(delivery, engine, clock)
    with session_scope(engine) as session:
        error = session.get(SyncError, first)
        assert error is not None
        error.status = "resolved"  # type: ignore[assignment]
        session.add(error)
    clock.advance(60)
    new_error(engine, clock, cause=cause)

    drive(delivery, engine, clock)

    assert len(slack.messages(CHANNEL, include_replies=False)) == 2


def test_update_of_an_error_listed_in_a_digest_replies_one_line_in_the_digest_thread(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    ids = [new_error(engine, clock) for _ in range(3)]
    drive(delivery, engine, clock)
    digest = slack.messages(CHANNEL, include_replies=False)[1]
    with session_scope(engine) as session:
        error = session.get(SyncError, ids[2])
        assert error is not None
        error.status = "resolved"  # type: ignore[assignment]
        error.resolved_by = "U7"
        session.add(error)
        enqueue(session, kind=NotificationKind.UPDATE, channel=CHANNEL, error_id=ids[2], due_at=clock.now())
        enqueue(
            session,
            kind=NotificationKind.REPEAT,
            channel=CHANNEL,
            error_id=ids[1],
            due_at=clock.now(),
        )

    drive(delivery, engine, clock)

    replies = slack.thread(CHANNEL, digest.ts)
    assert len(replies) == 2  # the page and the one line
    assert "U7" in (replies[1].text or "") + json.dumps(replies[1].blocks)
    assert slack.calls("chat.update") == []
    with Session(engine) as session:
        repeat = session.exec(select(Notification).where(Notification.kind == NotificationKind.REPEAT)).one()
        assert repeat.status == NotificationStatus.DROPPED


def test_a_record_level_cause_posts_the_errors_own_card_with_its_fix_buttons(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    error_id = new_error(
        engine, clock, cause="deleted-record:customers:10000", category=Category.DELETED_RECORD
    )
    drive(delivery, engine, clock)

    [post] = posts(slack)
    action_ids = {
        element["action_id"]
        for block in post.body["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }
    assert {"restore_record", "delete_record", "uncouple"} <= action_ids
    with Session(engine) as session:
        error = session.get(SyncError, error_id)
        assert error is not None and error.slack_ts == post.response["ts"]


def test_a_setup_cause_met_by_one_record_only_is_shown_as_that_errors_own_message(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    new_error(engine, clock)  # opens the channel's burst window
    lone = new_error(engine, clock, cause="permissions:prvCreateAccount:account")
    drive(delivery, engine, clock)

    texts = [post.body["text"] for post in posts(slack)]
    assert len(texts) == 2
    assert not any("records failed" in text for text in texts)
    with Session(engine) as session:
        error = session.get(SyncError, lone)
        assert error is not None and error.slack_ts is not None


def permission_errors(engine: Engine, clock: FakeClock, count: int) -> None:
    for _ in range(count):
        new_error(
            engine,
            clock,
            category=Category.PERMISSIONS,
            cause="permissions:prvCreateAccount:account",
            facts={"privilege": "prvCreateAccount"},
        )


def _dependency_errors(engine: Engine, clock: FakeClock, count: int, *, first_parent: int = 20000) -> None:
    for n in range(count):
        key = first_parent + n
        new_error(
            engine,
            clock,
            mapping="CONTACT",
            category=Category.DEPENDENCY_NOT_COUPLED,
            cause=f"dependency-not-coupled:CUSTOMER:{key}",
            message=f"Customer No. {key} must be coupled to a record in Dataverse.",
        )


def test_454_errors_of_two_setup_causes_are_two_messages_not_one_per_parent(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    permission_errors(engine, clock, 300)
    _dependency_errors(engine, clock, 154)  # 154 distinct parents: one cause, "parents not coupled"

    delivery.deliver_due()
    assert len(posts(slack)) == 1  # the first post goes out in the first round
    drive(delivery, engine, clock)

    top = slack.messages(CHANNEL, include_replies=False)
    assert len(top) == 2
    permissions, dependencies = top
    assert "300" in (permissions.text or "") and "prvCreateAccount" in (permissions.text or "")
    assert "154" in (dependencies.text or "")
    assert "Parent records are not coupled" in (dependencies.text or "")
    listed = json.dumps([page.blocks for page in slack.thread(CHANNEL, dependencies.ts)])
    assert all(f"Customer No. {20000 + n} " in listed for n in range(154))  # the thread names every parent
    assert len(slack.thread(CHANNEL, permissions.ts)) == 8  # 300 at 40 a page
    assert len(slack.thread(CHANNEL, dependencies.ts)) == 4
    assert_paced(slack)
    assert_no_duplicate_posts(slack)


def test_many_new_causes_at_once_fold_into_one_digest_with_counts_by_cause(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    permission_errors(engine, clock, 100)
    _dependency_errors(engine, clock, 50)
    for code, count in (("CZK", 30), ("EUR", 10)):
        for _ in range(count):
            new_error(engine, clock, category=Category.EXCHANGE_RATE, cause=f"exchange-rate:{code}")
    for _ in range(20):
        new_error(engine, clock, category=Category.CREDENTIALS, cause="credentials:dataverse:AADSTS7000215")

    drive(delivery, engine, clock)

    [digest] = slack.messages(CHANNEL, include_replies=False)
    assert "210" in (digest.text or "")
    body = json.dumps(digest.blocks, ensure_ascii=False)
    assert "By cause" in body
    for count in ("*100*", "*50*", "*40*", "*20*"):  # privilege, parents, exchange rates, credentials
        assert count in body
    assert len(slack.thread(CHANNEL, digest.ts)) == 6  # 210 at 40 a page
    assert {e.slack_ts for e in _errors(engine)} == {p.ts for p in slack.thread(CHANNEL, digest.ts)}
    assert_no_duplicate_posts(slack)


@pytest.mark.slow
def test_a_1316_error_burst_drains_at_the_channel_pace_once_slack_is_back(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    slack.rate_limit_posts(1.0)  # Slack's 1 message per second per channel, 429 beyond it
    slack.set_outage(True)
    permission_errors(engine, clock, 800)
    _dependency_errors(engine, clock, 400)
    for _ in range(116):
        new_error(engine, clock, category=Category.EXCHANGE_RATE, cause="exchange-rate:CZK")
    drive(delivery, engine, clock, until=clock.now() + timedelta(minutes=10))  # a ten-minute outage
    assert posts(slack) == []
    slack.set_outage(False)
    back = clock.now()

    drive(delivery, engine, clock)

    moments = [call.at for call in posts(slack)]
    assert moments[0] - back.timestamp() <= 5  # the outage is probed every 4 s at most
    assert moments[-1] - back.timestamp() <= 120
    assert len(slack.messages(CHANNEL, include_replies=False)) == 3
    assert len(moments) == 3 + 20 + 10 + 3  # three cause messages and their pages
    assert [c for c in slack.calls("chat.postMessage") if c.status == 429] == []
    assert_paced(slack)
    assert_no_duplicate_posts(slack)
    with Session(engine) as session:
        assert pending_count(session) == 0


def test_a_few_new_causes_while_the_window_is_open_get_their_own_messages_at_once(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    new_error(engine, clock, category=Category.VALIDATION)
    delivery.deliver_due()  # posted; the channel's burst window opens
    clock.advance(10)
    new_error(engine, clock, category=Category.EXCHANGE_RATE, cause="exchange-rate:DKK")
    new_error(engine, clock, category=Category.CREDENTIALS, cause="credentials:dataverse:AADSTS50055")

    for _ in range(3):
        delivery.deliver_due()
        clock.advance(1)

    texts = [post.body["text"] for post in posts(slack)]
    assert len(texts) == 3  # no waiting in the window: each new setup cause tells its fix at once
    assert not any("new sync errors" in text for text in texts)
