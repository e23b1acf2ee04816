"""The HTTP front: health, metrics, and Slack's signature check (401 and nothing changed)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sqlmodel import Session

from bot.app import build_app
from bot.web import WebApp
from storage.models import SyncError
from tests.factories import make_error
from tests.fakes.slack_payloads import block_actions_body, signed_headers, slash_command_body
from tests.handlers.conftest import ADMIN, SECRET, Harness


def test_healthz_answers_ok(harness: Harness) -> None:
    response = harness.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_metrics_answer_prometheus_text(harness: Harness) -> None:
    harness.command("help")
    response = harness.http.get("/metrics")
    assert response.status_code == 200
    assert "sync_errors_work_items" in response.text
    assert "sync_errors_slack_request_seconds" in response.text


def test_forged_signature_gets_401_and_changes_nothing(harness: Harness) -> None:
    with Session(harness.db) as session:
        error = make_error(session)
        session.commit()
        error_id = error.id
    body = block_actions_body(
        "delete_error", str(error_id), user_id=ADMIN, response_url=harness.fake.response_url("x")
    )
    headers = signed_headers(body, "not-the-secret")
    response = harness.http.post("/slack/events", content=body.encode(), headers=headers)
    assert response.status_code == 401
    assert harness.audit() == [] and harness.work() == []
    assert harness.fake.calls("response_url") == []
    with Session(harness.db) as session:
        assert session.get(SyncError, error_id) is not None


def test_stale_timestamp_gets_401_and_changes_nothing(harness: Harness) -> None:
    body = slash_command_body("resync 1", user_id=ADMIN, response_url=harness.fake.response_url("y"))
    headers = signed_headers(body, SECRET, timestamp=int(time.time()) - 6 * 60)
    response = harness.http.post("/slack/events", content=body.encode(), headers=headers)
    assert response.status_code == 401
    assert harness.audit() == [] and harness.work() == []
    assert harness.fake.calls() == []


def test_tampered_body_gets_401(harness: Harness) -> None:
    body = slash_command_body("sync", user_id=ADMIN)
    headers = signed_headers(body, SECRET)
    response = harness.http.post("/slack/events", content=(body + "x").encode(), headers=headers)
    assert response.status_code == 401
    assert harness.work() == []


def test_bolt_checks_signatures_only_where_no_front_did(harness: Harness) -> None:
    settings = harness.settings
    behind_front = build_app(settings, harness.services, verified_by_front=True)
    alone = build_app(settings, harness.services)
    names = lambda app: [type(m).__name__ for m in app._middleware_list]  # noqa: E731, SLF001
    assert "RequestVerification" not in names(behind_front)
    assert "RequestVerification" in names(alone)
    with pytest.raises(ValueError, match="Socket Mode"):
        build_app(settings, harness.services, socket_mode=True, verified_by_front=True)


def test_the_front_cannot_start_without_a_signing_secret(harness: Harness) -> None:
    app = build_app(harness.settings, harness.services, verified_by_front=True)
    unsigned = replace(
        harness.services, settings=harness.settings.model_copy(update={"slack_signing_secret": None})
    )
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        WebApp(app, unsigned)


def test_a_request_without_any_signature_gets_401_and_changes_nothing(harness: Harness) -> None:
    body = slash_command_body("sync", user_id=ADMIN, response_url=harness.fake.response_url("z"))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
    }
    response = harness.http.post("/slack/events", content=body.encode(), headers=headers)
    assert response.status_code == 401
    assert harness.audit() == [] and harness.work() == []
    assert harness.fake.calls() == []
