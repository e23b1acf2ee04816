"""Crash safety and Slack failures: nothing posted twice, nothing skipped, permanent refusals FAILED."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import bot.notify.digest
import bot.notify.new_error
from bot.notify import OutboxDelivery
from storage.db import session_scope
from storage.models import Notification, NotificationKind, NotificationStatus, SyncError
from storage.outbox import claim_due
from tests.bot.notify.helpers import (
    CHANNEL,
    FakeClock,
    assert_no_duplicate_posts,
    assert_paced,
    drive,
    new_error,
    posts,
    statuses,
)
from tests.fakes.slack_api import FakeSlack


class Crash(BaseException):
    """The process dies here (not an Exception: nothing in the loop may catch it)."""


def _row(engine: Engine, notification_id: int) -> Notification:
    with Session(engine) as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        return row


def _crash_once(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    original = getattr(module, name)
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, crashing)


def test_crash_between_post_and_commit_does_not_post_twice(
    engine: Engine,
    delivery: OutboxDelivery,
    slack: FakeSlack,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error_id = new_error(engine, clock)
    _crash_once(monkeypatch, bot.notify.new_error, "record_own_message")
    with pytest.raises(Crash):
        delivery.deliver_due()
    assert _row(engine, 1).status == NotificationStatus.SENDING
    [posted] = posts(slack)

    clock.advance(30)
    assert delivery.deliver_due().claimed == 0  # a fresh claim is left alone
    clock.advance(31)
    report = delivery.deliver_due()

    assert (report.recovered, report.posted) == (1, 0)
    assert len(slack.calls("chat.postMessage")) == 1
    [lookup] = slack.calls("conversations.history")
    assert lookup.body["include_all_metadata"] in ("1", "true", True)
    row = _row(engine, 1)
    assert (row.status, row.slack_ts) == (NotificationStatus.SENT, posted.response["ts"])
    with Session(engine) as session:
        error = session.get(SyncError, error_id)
        assert error is not None and error.slack_ts == posted.response["ts"]


def test_a_row_claimed_but_never_posted_is_posted_after_the_claim_goes_stale(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    new_error(engine, clock)
    with session_scope(engine) as session:  # a loop claimed it and died before posting
        [claim] = claim_due(session, now=clock.now(), stale_before=clock.now(), limit=10)
    assert claim.recovering is False

    clock.advance(61)
    report = delivery.deliver_due()

    assert (report.posted, report.recovered) == (1, 0)
    assert len(slack.calls("conversations.history")) == 1
    assert len(posts(slack)) == 1
    assert _row(engine, 1).status == NotificationStatus.SENT


def test_a_post_that_went_through_but_answered_500_is_found_not_reposted(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    new_error(engine, clock)
    slack.fail_next("chat.postMessage", status=500, apply=True)

    first = delivery.deliver_due()

    assert (first.posted, first.recovered, first.requeued) == (0, 1, 0)  # looked up at once, found
    assert len(slack.messages(CHANNEL)) == 1
    assert len(slack.calls("chat.postMessage")) == 1  # never repeated, by slack_sdk or by the loop
    assert len(slack.calls("conversations.history")) == 1
    row = _row(engine, 1)
    assert (row.status, row.slack_ts) == (NotificationStatus.SENT, slack.messages(CHANNEL)[0].ts)


def test_a_dropped_connection_without_a_stored_post_is_looked_up_then_posted_once(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    new_error(engine, clock)
    slack.fail_next("chat.postMessage", disconnect=True)

    delivery.deliver_due()
    row = _row(engine, 1)
    assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
    assert row.last_error is not None and row.last_error.startswith("connection")
    assert (row.due_at - clock.now()).total_seconds() == 1  # the channel's pace, no backoff: Slack answers
    assert len(slack.calls("chat.postMessage")) == 1  # slack_sdk did not repeat the post by itself
    drive(delivery, engine, clock)

    assert len(slack.messages(CHANNEL)) == 1
    assert len(slack.calls("chat.postMessage")) == 2
    assert len(slack.calls("conversations.history")) == 2  # after the failure, and again before the post
    assert _row(engine, 1).status == NotificationStatus.SENT


def test_an_outage_is_probed_every_4_s_at_most_and_a_success_resets_the_backoff(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    new_error(engine, clock)
    slack.set_outage(True)
    gaps = []
    for _ in range(6):
        delivery.deliver_due()
        row = _row(engine, 1)
        gaps.append(round((row.due_at - clock.now()).total_seconds()))
        clock.move_to(row.due_at)
    assert gaps == [2, 4, 4, 4, 4, 4]
    assert len(slack.calls("chat.postMessage")) == 1  # later probes are look-ups, not posts
    slack.set_outage(False)
    drive(delivery, engine, clock)
    assert len(slack.messages(CHANNEL)) == 1

    new_error(engine, clock, channel="C0OTHER")  # notification 3 (2 is the first channel's burst window)
    slack.fail_next("chat.postMessage", status=503)
    slack.fail_next("conversations.history", status=503, times=2)  # the client retries a read once
    delivery.deliver_due()
    row = _row(engine, 3)
    assert (row.due_at - clock.now()).total_seconds() == 2  # the streak started again from zero
    drive(delivery, engine, clock)
    assert len(slack.messages("C0OTHER")) == 1
    assert_no_duplicate_posts(slack)


def test_crash_in_the_middle_of_a_digest_resumes_without_duplicate_pages(
    engine: Engine,
    delivery: OutboxDelivery,
    slack: FakeSlack,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(130):
        new_error(engine, clock)
    delivery.deliver_due()  # digest parent (many errors at once: posted at once)
    clock.advance(1)
    delivery.deliver_due()  # page 1
    _crash_once(monkeypatch, bot.notify.digest, "_record_page")
    clock.advance(1)
    with pytest.raises(Crash):
        delivery.deliver_due()  # page 2 is posted, its commit is lost

    clock.advance(61)
    drive(delivery, engine, clock)

    [digest] = slack.messages(CHANNEL, include_replies=False)
    pages = slack.thread(CHANNEL, digest.ts)
    assert len(pages) == 4  # 130 errors, 40 per page
    assert len(slack.calls("conversations.replies")) == 1
    assert_no_duplicate_posts(slack)
    assert_paced(slack)
    with Session(engine) as session:
        errors = session.exec(select(SyncError).order_by(col(SyncError.id))).all()
    assert all(e.slack_ts for e in errors)
    assert statuses(engine)["new_error:sent"] == 130


def test_channel_not_found_marks_the_row_failed_and_others_go_on(
    engine: Engine,
    delivery: OutboxDelivery,
    slack: FakeSlack,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    new_error(engine, clock, channel="C0GONE")
    new_error(engine, clock, channel="C0OTHER")
    slack.fail_next("chat.postMessage", error="channel_not_found")

    report = delivery.deliver_due()

    assert (report.failed, report.posted) == (1, 1)
    row = _row(engine, 1)
    assert (row.status, row.last_error) == (NotificationStatus.FAILED, "channel_not_found")
    assert "channel_not_found" in caplog.text
    assert _row(engine, 2).status == NotificationStatus.SENT


def test_invalid_auth_fails_the_row_and_stops_the_round(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    new_error(engine, clock, channel="C0A")
    new_error(engine, clock, channel="C0B")
    slack.fail_next("chat.postMessage", error="invalid_auth")

    report = delivery.deliver_due()

    assert (report.failed, report.posted) == (1, 0)
    assert _row(engine, 1).status == NotificationStatus.FAILED
    second = _row(engine, 2)
    assert (second.status, second.attempts, second.payload) == (NotificationStatus.PENDING, 0, {})


def test_a_digest_refused_for_good_fails_with_its_held_errors(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    for _ in range(3):
        new_error(engine, clock)
    delivery.deliver_due()
    clock.advance(1800)
    slack.fail_next("chat.postMessage", error="message_limit_exceeded")

    delivery.deliver_due()

    counts = statuses(engine)
    assert counts["digest:failed"] == 1 and counts["new_error:failed"] == 2
    assert counts[f"{NotificationKind.NEW_ERROR}:sent"] == 1


def test_failures_between_the_steps_of_a_long_digest_do_not_add_up(
    engine: Engine, delivery: OutboxDelivery, slack: FakeSlack, clock: FakeClock
) -> None:
    for _ in range(400):
        new_error(engine, clock, cause="permissions:prvCreateAccount:account")
    slack.flaky("chat.postMessage", fraction=0.5, status=503, apply=False)  # every other post is lost
    start = clock.now()

    drive(delivery, engine, clock)

    [parent] = slack.messages(CHANNEL, include_replies=False)
    assert len(slack.thread(CHANNEL, parent.ts)) == 10
    assert (clock.now() - start).total_seconds() <= 11 * 2 + 5  # each step: one lost post, one at the pace
    assert_no_duplicate_posts(slack)
