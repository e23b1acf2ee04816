"""The reply process of a web worker: replies handed to it are sent, also when it is SIGKILLed meanwhile, and
they wait (a bounded time) while the worker answers Slack's requests."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.answering import RequestsInFlight
from bot.config import Settings
from bot.replier import MAX_HANDOVERS, ReplyProcess
from handlers.commands.sync_errors import COMMAND_REPLY
from handlers.later import Reply
from tests.factories import make_error
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_payloads import block_actions_payload, slash_command_body
from tests.faults.conftest import USER, wait_until

pytestmark = pytest.mark.slow

REPLIES = 30


HOLD_SECONDS = 2.0


@pytest.fixture
def settings(database_url: str, slack: FakeSlack) -> Settings:
    """Settings pointing at the test store and the stand-in."""
    return Settings(
        _env_file=None,
        database_url=database_url,
        slack_bot_token="xoxb-test",
        slack_api_url=slack.api_url.rstrip("/"),
        slack_channel="C0TEST",
    )


@pytest.fixture
def replies(settings: Settings) -> Iterator[ReplyProcess]:
    """A reply process pointed at the test store and the stand-in (as a web worker starts it)."""
    process = ReplyProcess(settings)
    yield process
    process.close(timeout=5)


@pytest.fixture
def requests() -> RequestsInFlight:
    """The worker's count of Slack requests being answered."""
    return RequestsInFlight()


@pytest.fixture
def held_replies(settings: Settings, requests: RequestsInFlight) -> Iterator[ReplyProcess]:
    """A reply process that holds its replies while `requests` counts any, at most HOLD_SECONDS."""
    process = ReplyProcess(settings, requests=requests, hold_seconds=HOLD_SECONDS)
    yield process
    process.close(timeout=5)


def _command(slack: FakeSlack, words: str, name: str) -> Reply:
    body = slash_command_body(words, user_id=USER, response_url=slack.response_url(name))
    return Reply(COMMAND_REPLY, dict(parse_qsl(body)))


def _answered(slack: FakeSlack) -> dict[str, list[str]]:
    answers: dict[str, list[str]] = {}
    for call in slack.calls("response_url"):
        answers.setdefault(call.path, []).append(json.dumps(call.body, ensure_ascii=False))
    return answers


def test_a_reply_is_rendered_and_sent_by_the_reply_process(
    replies: ReplyProcess, engine: Engine, slack: FakeSlack
) -> None:
    with Session(engine) as session:
        error = make_error(session, mapping="CUSTOMER")
        session.commit()
        error_id = error.id
    assert replies.submit(_command(slack, "list", "list"))
    body = block_actions_payload("show_details", str(error_id), response_url=slack.response_url("d"))
    assert replies.submit(Reply("show_details", body, body["actions"][0]))
    wait_until(lambda: len(_answered(slack)) == 2, timeout=30)
    answers = _answered(slack)
    assert f"#{error_id}" in answers["/response/list"][0]
    assert f"#{error_id}" in answers["/response/d"][0]
    wait_until(lambda: replies.in_flight() == 0)


def test_replies_in_flight_when_the_reply_process_is_killed_are_sent_by_the_next(
    replies: ReplyProcess, slack: FakeSlack
) -> None:
    first = replies.pid
    for number in range(REPLIES):
        assert replies.submit(_command(slack, "help", f"r{number}"))
    os.kill(first, signal.SIGKILL)  # still starting: every reply is in flight
    wait_until(lambda: len(_answered(slack)) == REPLIES, timeout=60)
    assert replies.pid != first
    wait_until(lambda: replies.in_flight() == 0)
    assert all(len(texts) == 1 for texts in _answered(slack).values())  # none was sent before the kill


def test_a_stopping_worker_lets_its_reply_process_finish(replies: ReplyProcess, slack: FakeSlack) -> None:
    for number in range(REPLIES):
        assert replies.submit(_command(slack, "help", f"r{number}"))
    started = time.monotonic()
    replies.close(timeout=30)
    assert len(_answered(slack)) == REPLIES and time.monotonic() - started < 30
    assert not replies.submit(_command(slack, "help", "late"))  # closed: the worker renders it itself


def test_a_reply_in_flight_through_three_deaths_is_dropped(replies: ReplyProcess, slack: FakeSlack) -> None:
    for number in range(5):
        assert replies.submit(_command(slack, "help", f"r{number}"))
    for _ in range(MAX_HANDOVERS):
        pid = replies.pid
        os.kill(pid, signal.SIGKILL)  # still starting: nothing was sent
        wait_until(lambda: replies.pid != pid or replies.in_flight() == 0, timeout=30)  # noqa: B023
    wait_until(lambda: replies.in_flight() == 0, timeout=30)
    assert _answered(slack) == {}


def test_a_reply_waits_until_the_worker_has_answered_its_requests(
    held_replies: ReplyProcess, requests: RequestsInFlight, slack: FakeSlack
) -> None:
    held_replies.submit(_command(slack, "help", "warm"))  # the reply process is up and has sent one
    wait_until(lambda: len(_answered(slack)) == 1, timeout=30)
    with requests.answering():
        assert held_replies.submit(_command(slack, "help", "held"))
        time.sleep(HOLD_SECONDS / 2)
        assert "/response/held" not in _answered(slack)  # acks first
    answered = time.monotonic()
    wait_until(lambda: "/response/held" in _answered(slack), timeout=HOLD_SECONDS, every=0.01)
    assert time.monotonic() - answered < HOLD_SECONDS / 2  # sent soon after, not at the end of the hold


def test_a_reply_is_held_no_longer_than_the_hold(
    held_replies: ReplyProcess, requests: RequestsInFlight, slack: FakeSlack
) -> None:
    held_replies.submit(_command(slack, "help", "warm"))
    wait_until(lambda: len(_answered(slack)) == 1, timeout=30)
    with requests.answering():  # a burst that does not end
        submitted = time.monotonic()
        assert held_replies.submit(_command(slack, "help", "held"))
        wait_until(lambda: "/response/held" in _answered(slack), timeout=HOLD_SECONDS + 10, every=0.01)
        waited = time.monotonic() - submitted
    assert HOLD_SECONDS * 0.9 <= waited < HOLD_SECONDS + 10
