"""Posting is idempotent end to end: a Slack that stores a post, then fails its answer, gets no duplicates."""

from __future__ import annotations

from collections import Counter

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.notify import DigestTiming, OutboxDelivery, pending_count
from bot.notify.retries import safe_retry_handlers
from storage.models import Category, NotificationKind, SyncError
from tests.bot.notify.helpers import (
    CHANNEL,
    FakeClock,
    assert_no_duplicate_posts,
    drive,
    follow_up,
    new_error,
    statuses,
)
from tests.fakes.slack_api import FakeSlack


def _eager_client(slack: FakeSlack) -> WebClient:
    """A client with the retry handlers the bot used to carry: 5xx and connection errors retried at once."""
    return WebClient(
        token="xoxb-test",
        base_url=slack.api_url,
        timeout=5,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=1),
            ServerErrorRetryHandler(max_retry_count=1),
        ],
    )


def _tags(slack: FakeSlack) -> Counter[tuple[int, int]]:
    return Counter(
        (m.metadata["event_payload"]["notification_id"], m.metadata["event_payload"].get("step", 0))
        for m in slack.messages(CHANNEL)
        if m.metadata
    )


@pytest.mark.parametrize("failure", ["http_500", "dropped_connection"])
def test_a_quarter_of_posts_stored_then_failed_leaves_no_duplicate(
    engine: Engine, slack: FakeSlack, clock: FakeClock, failure: str
) -> None:
    delivery = OutboxDelivery(
        db=engine,
        client=_eager_client(slack),
        digest=DigestTiming(digest_min_seconds=60, digest_step_seconds=5, digest_max_seconds=120),
        clock=clock.now,
    )
    slack.flaky("chat.postMessage", fraction=0.25, status=500, disconnect=failure == "dropped_connection")
    singles = [new_error(engine, clock, category=Category.VALIDATION) for _ in range(2)]
    for _ in range(45):  # one cause: a cause message and its thread pages (40 a page)
        new_error(engine, clock, category=Category.PERMISSIONS, cause="permissions:prvCreateAccount")
    drive(delivery, engine, clock)
    for n in range(100):  # a burst of record errors in the open window: a digest and its pages
        new_error(engine, clock, category=Category.VALIDATION, mapping=f"M{n % 4}")
    drive(delivery, engine, clock)
    for _ in range(3):  # repeats: thread replies (each followed by an edit of the parent)
        clock.advance(120)
        follow_up(engine, clock, singles[0], NotificationKind.REPEAT)
        drive(delivery, engine, clock)

    stored = _tags(slack)
    assert sum(stored.values()) == len(slack.messages(CHANNEL))  # every message carries its tag
    assert [tag for tag, count in stored.items() if count > 1] == []
    assert_no_duplicate_posts(slack)
    failed = [c for c in slack.calls("chat.postMessage") if c.status != 200 or not c.response.get("ok")]
    assert len(failed) >= 3  # the stand-in really failed posts after storing them
    assert delivery.totals.recovered >= len(failed) - 1
    top = slack.messages(CHANNEL, include_replies=False)
    assert len(top) == 4  # two error cards, the cause message, the digest
    replies = [m for m in slack.messages(CHANNEL) if m.thread_ts is not None]
    assert len(replies) == 2 + 3 + 3  # 45 listed at 40 a page, 100 in the digest's thread, 3 repeats
    with Session(engine) as session:
        assert pending_count(session) == 0
        assert all(e.slack_ts for e in session.exec(select(SyncError)).all())
    counts = statuses(engine)
    assert counts["new_error:failed"] == counts["new_error:dropped"] == 0


def test_safe_retry_handlers_repeat_reads_and_edits_but_not_posts(slack: FakeSlack) -> None:
    client = WebClient(
        token="xoxb-test", base_url=slack.api_url, timeout=5, retry_handlers=safe_retry_handlers()
    )
    slack.fail_next("chat.postMessage", status=500, apply=True)
    slack.fail_next("chat.update", status=500)
    slack.fail_next("conversations.history", disconnect=True)

    with pytest.raises(Exception):  # noqa: B017 - slack_sdk raises its own error for a 500
        client.chat_postMessage(channel=CHANNEL, text="once")
    client.conversations_history(channel=CHANNEL)
    client.chat_update(channel=CHANNEL, ts=slack.messages(CHANNEL)[0].ts, text="edited")

    assert len(slack.calls("chat.postMessage")) == 1
    assert len(slack.calls("conversations.history")) == 2
    assert len(slack.calls("chat.update")) == 2
    slack.fail_next("chat.postMessage", status=429, retry_after=0)
    client.chat_postMessage(channel=CHANNEL, text="after a 429")  # Slack stored nothing: retried at once
    assert len(slack.messages(CHANNEL)) == 2
