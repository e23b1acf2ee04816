"""The Slack stand-in answers slack_sdk's WebClient like Slack does, records calls and fails on cue."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_payloads import (
    block_actions_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A running stand-in."""
    with FakeSlack() as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    """A WebClient talking to it."""
    return WebClient(token="xoxb-test", base_url=fake.api_url)


def test_auth_test_answers_the_bot_identity_on_the_path_slack_sdk_builds(
    fake: FakeSlack, client: WebClient
) -> None:
    answer = client.auth_test()

    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == ("T1", "UBOT", "BBOT")
    [call] = fake.calls("auth.test")
    assert call.path == "/api/auth.test" and call.headers["authorization"] == "Bearer xoxb-test"


def test_posts_keep_increasing_ts_threads_and_metadata(fake: FakeSlack, client: WebClient) -> None:
    metadata = {"event_type": "sync_error_notification", "event_payload": {"notification_id": 7}}
    parent = client.chat_postMessage(channel="C1", text="parent", metadata=metadata)
    reply = client.chat_postMessage(channel="C1", text="reply", thread_ts=parent["ts"])
    nested = client.chat_postMessage(channel="C1", text="nested", thread_ts=reply["ts"])

    assert parent["ts"] < reply["ts"] < nested["ts"]
    assert parent["ts"].startswith("17") and len(parent["ts"].split(".")[1]) == 6
    assert [m.text for m in fake.thread("C1", parent["ts"])] == ["reply", "nested"]
    assert fake.calls("chat.postMessage")[0].body["metadata"] == metadata

    history = client.conversations_history(channel="C1", include_all_metadata=True, limit=10)
    [top] = history["messages"]
    assert top["metadata"] == metadata and top["reply_count"] == 2
    assert "metadata" not in client.conversations_history(channel="C1")["messages"][0]
    assert client.conversations_history(channel="C1", oldest=parent["ts"])["messages"] == []
    replies = client.conversations_replies(channel="C1", ts=parent["ts"], include_all_metadata=True)
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply", "nested"]


def test_history_pages_with_a_cursor(client: WebClient) -> None:
    for n in range(5):
        client.chat_postMessage(channel="C1", text=str(n))

    first = client.conversations_history(channel="C1", limit=3)
    second = client.conversations_history(
        channel="C1", limit=3, cursor=first["response_metadata"]["next_cursor"]
    )

    assert [m["text"] for m in first["messages"]] == ["4", "3", "2"] and first["has_more"]
    assert [m["text"] for m in second["messages"]] == ["1", "0"] and not second["has_more"]


def test_update_and_delete_change_the_stored_message(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="before")
    client.chat_update(channel="C1", ts=posted["ts"], text="after", blocks=[{"type": "divider"}])

    stored = fake.message("C1", posted["ts"])
    assert stored is not None and (stored.text, stored.blocks, stored.edited) == (
        "after",
        [{"type": "divider"}],
        True,
    )
    client.chat_delete(channel="C1", ts=posted["ts"])
    assert fake.messages("C1") == []
    with pytest.raises(SlackApiError) as refused:
        client.chat_update(channel="C1", ts=posted["ts"], text="x")
    assert refused.value.response["error"] == "message_not_found"


def test_ephemerals_views_and_users(fake: FakeSlack, client: WebClient) -> None:
    fake.set_user("U2", locale="cs-CZ")
    client.chat_postEphemeral(channel="C1", user="U2", text="only you")
    opened = client.views_open(trigger_id="1.1", view={"type": "modal", "callback_id": "purge", "blocks": []})
    client.views_update(
        view_id=opened["view"]["id"], view={"type": "modal", "callback_id": "purge2", "blocks": []}
    )
    client.views_publish(user_id="U2", view={"type": "home", "blocks": []})

    assert fake.ephemerals("C1")[0]["text"] == "only you"
    assert fake.views()[opened["view"]["id"]]["callback_id"] == "purge2"
    assert fake.home_view("U2") == {"type": "home", "blocks": [], "id": "VHOMEU2"}
    assert client.users_info(user="U2", include_locale=True)["user"]["locale"] == "cs-CZ"
    assert client.users_info(user="U3", include_locale=True)["user"]["locale"] == "en-US"


def test_scripted_failures(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    fake.fail_next("chat.postMessage", status=503)
    fake.fail_next("chat.postMessage", error="channel_not_found")

    answers = []
    for _ in range(3):
        with pytest.raises(SlackApiError) as failed:
            client.chat_postMessage(channel="C1", text="x")
        answers.append((failed.value.response.status_code, failed.value.response.get("error")))

    assert answers[0] == (429, "ratelimited")
    assert answers[1][0] == 503
    assert answers[2] == (200, "channel_not_found")
    assert fake.calls("chat.postMessage")[0].status == 429
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert fake.messages("C1")[0].text == "x"


def test_a_failure_after_the_effect_keeps_the_message(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=500, apply=True)

    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="went through")

    assert [m.text for m in fake.messages("C1")] == ["went through"]


def test_wait_for_returns_once_enough_calls_arrived(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()

    assert len(fake.wait_for("auth.test", 1, timeout=1)) == 1
    with pytest.raises(AssertionError):
        fake.wait_for("chat.postMessage", 1, timeout=0.05)


def test_response_url_posts_are_recorded(fake: FakeSlack) -> None:
    WebhookClient(fake.response_url("r1")).send(text="done", replace_original=True)

    [call] = fake.calls("response_url")
    assert call.path == "/response/r1" and call.body == {"text": "done", "replace_original": True}


def test_a_request_without_a_token_is_refused(fake: FakeSlack) -> None:
    request = urllib.request.Request(
        fake.api_url + "chat.postMessage", data=b"channel=C1&text=x", method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read()) == {"ok": False, "error": "not_authed"}


def test_payload_bodies_are_signed_the_way_slack_signs_them() -> None:
    bodies = [
        slash_command_body("purge --older-than 7d"),
        block_actions_body("resync", "17", message_ts="1700000000.000100"),
        view_submission_body("purge", {"b": {"a": {"type": "plain_text_input", "value": "PURGE"}}}),
    ]
    for body in bodies:
        headers = signed_headers(body, "secret", timestamp=1_700_000_000)
        verifier = SignatureVerifier("secret", clock=_FixedClock())
        assert verifier.is_valid(
            body=body,
            timestamp=headers["X-Slack-Request-Timestamp"],
            signature=headers["X-Slack-Signature"],
        )


class _FixedClock(Clock):
    def now(self) -> float:
        return 1_700_000_010.0


def test_a_request_cut_off_mid_body_is_not_recorded(fake: FakeSlack) -> None:
    """A sender killed between its header and body writes delivered nothing, so nothing is recorded."""
    host, port = fake.url.removeprefix("http://").split(":")
    head = (
        f"POST /response/cut HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        "Content-Length: 40\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head)  # the body never comes
        connection.shutdown(socket.SHUT_WR)
        assert connection.recv(4096) == b""
    with urllib.request.urlopen(urllib.request.Request(fake.response_url("whole"), data=b"{}")) as answer:
        assert answer.status == 200
    assert [call.path for call in fake.calls("response_url")] == ["/response/whole"]
