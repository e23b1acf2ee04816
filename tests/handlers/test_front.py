"""The front before Bolt: refusals before parsing, malformed signed payloads, replays, unknown action_ids."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest
from sqlmodel import Session

from bot.front import MAX_BODY_BYTES
from storage.mappings import list_mappings
from storage.models import SyncError
from tests.factories import make_error
from tests.fakes.slack_payloads import (
    JSON,
    block_actions_body,
    block_actions_payload,
    signed_headers,
    slash_command_body,
)
from tests.handlers.conftest import ADMIN, SECRET, USER, Harness


def _post_signed(harness: Harness, body: str, content_type: str = "application/x-www-form-urlencoded"):  # type: ignore[no-untyped-def]
    headers = signed_headers(body, SECRET, content_type=content_type)
    return harness.http.post("/slack/events", content=body.encode(), headers=headers)


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


def test_a_non_numeric_timestamp_gets_401(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    body = slash_command_body("sync", user_id=ADMIN)
    headers = signed_headers(body, SECRET)
    headers["X-Slack-Request-Timestamp"] = "soon"
    response = harness.http.post("/slack/events", content=body.encode(), headers=headers)
    assert response.status_code == 401
    assert harness.work() == [] and harness.audit() == []
    _no_tracebacks(caplog)


def test_a_body_above_the_limit_gets_413_before_anything_reads_it(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    body = "payload=" + "x" * (MAX_BODY_BYTES + 1)
    response = harness.http.post(
        "/slack/events", content=body.encode(), headers={"X-Slack-Signature": "v0=1"}
    )
    assert response.status_code == 413
    _no_tracebacks(caplog)


@pytest.mark.parametrize(
    "body",
    ["payload=%7Bnot-json", "payload=" + json.dumps([1, 2]), "payload=" + json.dumps("text")],
)
def test_unsigned_garbage_gets_401_unparsed(
    harness: Harness, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    response = harness.http.post("/slack/events", content=body.encode())
    assert response.status_code == 401
    _no_tracebacks(caplog)


def _payload_body(payload: object) -> str:
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)})


def _malformed() -> list[object]:
    good = block_actions_payload("resync", "1", user_id=ADMIN)
    return [
        "{not json",
        [good],
        "just a string",
        {**good, "actions": {"action_id": "resync"}},
        {**good, "actions": ["resync"]},
        {**good, "user": ["U1"]},
        {
            "type": "view_submission",
            "user": {"id": ADMIN},
            "view": {"callback_id": "snooze", "state": {"values": ["garbage"]}},
        },
        {"type": "view_submission", "user": {"id": ADMIN}, "view": "garbage"},
        {"type": "view_submission", "user": {"id": ADMIN}, "view": {"private_metadata": 17}},
    ]


@pytest.mark.parametrize("payload", _malformed())
def test_a_malformed_signed_payload_gets_400_and_changes_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture, payload: object
) -> None:
    response = _post_signed(harness, _payload_body(payload))
    assert response.status_code == 400
    assert harness.work() == [] and harness.audit() == []
    _no_tracebacks(caplog)


@pytest.mark.parametrize("body", ["[1]", '"x"', "{", '{"type": "event_callback", "event": []}'])
def test_a_malformed_signed_event_gets_400(
    harness: Harness, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    assert _post_signed(harness, body, JSON).status_code == 400
    _no_tracebacks(caplog)


def test_an_unknown_action_id_is_acknowledged_and_logged(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.app")
    body = block_actions_body(
        "no_such_button", "1", user_id=USER, response_url=harness.fake.response_url("u")
    )
    response = _post_signed(harness, body)
    assert response.status_code == 200
    assert any("no_such_button" in r.getMessage() for r in caplog.records)
    _no_tracebacks(caplog)


def test_a_replayed_click_is_acknowledged_and_does_nothing(harness: Harness) -> None:
    with Session(harness.db) as session:
        error = make_error(session)
        session.commit()
        error_id = error.id
    body = block_actions_body(
        "resync", str(error_id), user_id=USER, response_url=harness.fake.response_url("r")
    )
    headers = signed_headers(body, SECRET)
    first = harness.http.post("/slack/events", content=body.encode(), headers=headers)
    assert first.status_code == 200
    harness.wait(harness.work, 1)
    for _ in range(2):
        again = harness.http.post("/slack/events", content=body.encode(), headers=headers)
        assert again.status_code == 200
    time.sleep(0.3)
    assert len(harness.work()) == 1
    assert [e.result for e in harness.audit()] == ["queued"]
    assert len(harness.wait(lambda: harness.fake.calls("response_url"), 1)) == 1


def test_a_replayed_command_runs_once(harness: Harness) -> None:
    body = slash_command_body("sync CUSTOMER", user_id=USER, response_url=harness.fake.response_url("c"))
    headers = signed_headers(body, SECRET)
    for _ in range(2):
        assert harness.http.post("/slack/events", content=body.encode(), headers=headers).status_code == 200
    time.sleep(0.3)
    assert len(harness.work()) == 1


def test_naming_every_mapping_needs_an_admin_like_syncing_everything(harness: Harness) -> None:
    with Session(harness.db) as session:
        names = [m.name for m in list_mappings(session, enabled_only=True)]
    if not names:  # the store of this test has no mappings yet: make the default ones
        from bot.sync.mappings import seed_default_mappings

        with Session(harness.db) as session:
            seed_default_mappings(session)
            session.commit()
            names = [m.name for m in list_mappings(session, enabled_only=True)]
    path = harness.command("sync " + " ".join(reversed(names)).lower(), user=USER)
    assert "admin" in harness.answer_text(path).lower()
    assert harness.work() == []
    assert [e.result for e in harness.audit()] == ["refused"]
    harness.command("sync " + names[0], user=USER)
    harness.wait(harness.work, 1)


def test_an_error_entry_survives_a_malformed_delete(harness: Harness) -> None:
    with Session(harness.db) as session:
        error = make_error(session)
        session.commit()
        error_id = error.id
    payload = block_actions_payload("delete_error", str(error_id), user_id=ADMIN)
    payload["actions"] = "delete_error"
    assert _post_signed(harness, _payload_body(payload)).status_code == 400
    with Session(harness.db) as session:
        assert session.get(SyncError, error_id) is not None
