"""Listeners answered at their ack (handlers.acking) in a Bolt app with process_before_response=True."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.error import BoltUnhandledRequestError

from bot.app import build_app
from handlers.acking import answer_at_ack
from tests.fakes.slack_payloads import app_home_opened_body, block_actions_body
from tests.handlers.conftest import Harness

FORM = {"content-type": ["application/x-www-form-urlencoded"]}
JSON = {"content-type": ["application/json"]}


def _app(register: Callable[[App], None], errors: list[Exception]) -> App:
    app = App(
        signing_secret="secret",
        request_verification_enabled=False,
        token_verification_enabled=False,
        process_before_response=True,
        raise_error_for_unhandled_request=True,
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="T1", bot_token="xoxb-test", bot_user_id="UBOT", bot_id="B1"
        ),
    )

    @app.error
    def keep(error: Exception) -> BoltResponse:
        errors.append(error)
        status = 503 if isinstance(error, BoltUnhandledRequestError) else 500
        return BoltResponse(status=status, body="")

    register(app)
    return app


def _click(app: App) -> tuple[BoltResponse, float]:
    started = time.monotonic()
    response = app.dispatch(BoltRequest(body=block_actions_body("show_details", "1"), headers=FORM))
    return response, time.monotonic() - started


def test_slack_gets_the_ack_while_the_listener_goes_on() -> None:
    release, finished = threading.Event(), threading.Event()

    def listener(ack: Ack) -> None:
        ack(text="on it")
        release.wait(5)
        finished.set()

    errors: list[Exception] = []
    app = _app(lambda a: a.action("show_details")(answer_at_ack(listener)), errors)
    response, seconds = _click(app)
    assert response.status == 200 and "on it" in response.body
    assert not finished.is_set() and seconds < 1.0
    release.set()
    assert finished.wait(5)
    assert errors == []


def test_every_listener_of_the_bot_is_answered_at_its_ack(harness: Harness) -> None:
    """With process_before_response=True, a listener not wrapped would make Slack wait for all its work."""
    app = build_app(harness.settings, harness.services, verified_by_front=True)
    assert app.process_before_response
    listeners = app._listeners  # noqa: SLF001 - Bolt has no public list of its listeners
    assert listeners and all(getattr(x.ack_function, "answers_at_ack", False) for x in listeners)


def test_a_failure_before_the_ack_fails_the_request(caplog: pytest.LogCaptureFixture) -> None:
    def listener(ack: Ack) -> None:  # noqa: ARG001 - named so that Bolt passes it
        raise RuntimeError("broken before the ack")

    errors: list[Exception] = []
    app = _app(lambda a: a.action("show_details")(answer_at_ack(listener)), errors)
    response, _ = _click(app)
    assert response.status == 500
    assert [str(e) for e in errors] == ["broken before the ack"]
    assert not [r for r in caplog.records if r.name == "handlers.acking"]


def test_a_failure_after_the_ack_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    done = threading.Event()

    def listener(ack: Ack) -> None:
        ack()
        try:
            raise RuntimeError("broken after the ack")
        finally:
            done.set()

    errors: list[Exception] = []
    app = _app(lambda a: a.action("show_details")(answer_at_ack(listener)), errors)
    with caplog.at_level(logging.ERROR, logger="handlers.acking"):
        response, _ = _click(app)
        assert done.wait(5)
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
    assert response.status == 200 and errors == []
    (record,) = [r for r in caplog.records if r.name == "handlers.acking"]
    assert record.getMessage() == "listener failed" and record.exc_info is not None


def test_a_listener_that_does_not_ack_in_time_gets_no_false_ack() -> None:
    release = threading.Event()

    def listener(ack: Ack) -> None:
        release.wait(5)
        ack()

    errors: list[Exception] = []
    app = _app(lambda a: a.action("show_details")(answer_at_ack(listener, timeout=0.2)), errors)
    response, seconds = _click(app)
    release.set()
    assert response.status == 503 and 0.2 <= seconds < 2
    assert [type(e) for e in errors] == [BoltUnhandledRequestError]


def test_an_event_is_acked_without_waiting_for_its_listener() -> None:
    release, finished = threading.Event(), threading.Event()

    def listener(event: dict[str, Any]) -> None:  # noqa: ARG001 - an event listener's argument
        release.wait(5)
        finished.set()

    app = _app(lambda a: a.event("app_home_opened")(answer_at_ack(listener)), [])
    response = app.dispatch(BoltRequest(body=app_home_opened_body(), headers=JSON))
    assert response.status == 200 and not finished.is_set()
    release.set()
    assert finished.wait(5)
