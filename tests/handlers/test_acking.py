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
from bot.ids import ActionId
from handlers.acking import answer_at_ack
from handlers.actions import build_routes, done_at_ack_clicks
from handlers.commands.sync_errors import only_reads
from tests.fakes.slack_payloads import (
    app_home_opened_body,
    block_actions_body,
    block_actions_payload,
    slash_command_payload,
)
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


def _picked(_body: dict[str, Any]) -> bool:
    return True


def test_a_request_picked_at_once_runs_on_the_request_thread() -> None:
    threads: list[threading.Thread] = []

    def listener(ack: Ack) -> None:
        ack(text="here")
        threads.append(threading.current_thread())

    errors: list[Exception] = []
    app = _app(lambda a: a.action("show_details")(answer_at_ack(listener, at_once=_picked)), errors)
    response, _ = _click(app)
    assert response.status == 200 and "here" in response.body
    assert threads == [threading.current_thread()] and errors == []


def test_a_request_not_picked_at_once_runs_on_the_pool() -> None:
    threads: list[threading.Thread] = []

    def listener(ack: Ack) -> None:
        threads.append(threading.current_thread())
        ack()

    app = _app(lambda a: a.action("show_details")(answer_at_ack(listener, at_once=lambda _: False)), [])
    response, _ = _click(app)
    assert response.status == 200 and threads and threads[0].name.startswith("listener")


def test_at_once_a_failure_before_the_ack_fails_the_request(caplog: pytest.LogCaptureFixture) -> None:
    def listener(ack: Ack) -> None:  # noqa: ARG001 - named so that Bolt passes it
        raise RuntimeError("broken before the ack")

    errors: list[Exception] = []
    app = _app(lambda a: a.action("show_details")(answer_at_ack(listener, at_once=_picked)), errors)
    response, _ = _click(app)
    assert response.status == 500 and [str(e) for e in errors] == ["broken before the ack"]
    assert not [r for r in caplog.records if r.name == "handlers.acking"]


def test_at_once_a_failure_after_the_ack_is_logged_once_and_slack_gets_the_ack(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def listener(ack: Ack) -> None:
        ack()
        raise RuntimeError("broken after the ack")

    errors: list[Exception] = []
    app = _app(lambda a: a.action("show_details")(answer_at_ack(listener, at_once=_picked)), errors)
    with caplog.at_level(logging.ERROR, logger="handlers.acking"):
        response, _ = _click(app)
    assert response.status == 200 and errors == []
    (record,) = [r for r in caplog.records if r.name == "handlers.acking"]
    assert record.getMessage() == "listener failed" and record.exc_info is not None


def test_only_the_bots_hand_over_clicks_and_reading_commands_are_picked_at_once() -> None:
    routes = build_routes()
    picked = done_at_ack_clicks(routes)
    assert picked(block_actions_payload(ActionId.SHOW_DETAILS, "1"))
    assert picked(block_actions_payload(ActionId.LIST_MORE, "1"))
    assert picked(block_actions_payload(ActionId.OPEN_RECORD, "1"))
    assert not picked(block_actions_payload(ActionId.RESYNC, "1"))  # committed before its ack
    assert not picked(block_actions_payload(ActionId.COUPLE, "1"))  # opens a modal after its ack
    assert not picked({"actions": "not a list"}) and not picked({})
    assert only_reads(slash_command_payload("")) and only_reads(slash_command_payload("list"))
    assert not only_reads(slash_command_payload("sync CUSTOMER"))
    assert not only_reads(slash_command_payload("list --bogus"))  # a usage error: answered on the pool
