"""Fixtures of the delivery tests: an injected clock, the Slack stand-in on it, a WebClient and the loop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.notify import DigestTiming, OutboxDelivery
from tests.bot.notify.helpers import T0, FakeClock
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
def clock() -> FakeClock:
    """A clock that only moves when the test moves it."""
    return FakeClock(T0)


@pytest.fixture
def slack(clock: FakeClock) -> Iterator[FakeSlack]:
    """The Slack stand-in, stamping calls and message ts with the test clock."""
    fake = FakeSlack(clock=clock.timestamp)
    yield fake
    fake.stop()


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    """A WebClient on the stand-in (no rate-limit retry handler: the loop's own requeue is under test)."""
    return WebClient(token="xoxb-test", base_url=slack.api_url, timeout=5)


@pytest.fixture
def delivery(engine: Engine, client: WebClient, clock: FakeClock) -> OutboxDelivery:
    """The delivery loop with Sentry's digest timing on the test clock."""
    return OutboxDelivery(
        db=engine,
        client=client,
        digest=DigestTiming(digest_min_seconds=300, digest_step_seconds=30, digest_max_seconds=1800),
        clock=clock.now,
        worker_id="test",
    )
