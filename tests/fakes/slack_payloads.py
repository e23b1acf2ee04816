"""Factories for the bodies Slack sends to the app (slash commands, buttons, modals, events) and signatures.

`*_payload` functions return the payload as a dict; `*_body` functions return the exact string Slack
would POST (form-encoded, or JSON for events). Sign that string with `signed_headers`.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T1"
TEAM_DOMAIN = "team-one"
API_APP_ID = "A1"
USER_ID = "U1"
USER_NAME = "alice"
CHANNEL_ID = "C1"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signed_headers(
    body: str | bytes, secret: str, timestamp: int | None = None, *, content_type: str = FORM
) -> dict[str, str]:
    """Headers Slack would send with `body`: the v0 signature over it and the request timestamp."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


def _team() -> dict[str, str]:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def _user(user_id: str, user_name: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID}


def form_body(payload: dict[str, Any]) -> str:
    """Encode an interactive payload the way Slack posts it: `payload=<json>` form-encoded."""
    return urlencode({"payload": json.dumps(payload)})


# ---- slash commands ----------------------------------------------------------------------------------


def slash_command_payload(
    text: str = "",
    *,
    command: str = "/sync-errors",
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    channel_name: str = "sync-errors",
    response_url: str = "https://hooks.slack.com/commands/T1/1/x",
    trigger_id: str = "1.1.trigger",
) -> dict[str, str]:
    """The fields of a slash-command request."""
    return {
        "token": "verification-token-unused",
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def slash_command_body(text: str = "", **fields: Any) -> str:
    """A slash-command request body, form-encoded (fields as in `slash_command_payload`)."""
    return urlencode(slash_command_payload(text, **fields))


# ---- buttons -------------------------------------------------------------------------------------------


def block_actions_payload(
    action_id: str,
    value: str | None = None,
    *,
    block_id: str = "actions",
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    message_ts: str = "1700000000.000100",
    thread_ts: str | None = None,
    message_blocks: list[dict[str, Any]] | None = None,
    message_metadata: dict[str, Any] | None = None,
    response_url: str = "https://hooks.slack.com/actions/T1/1/x",
    trigger_id: str = "1.1.trigger",
    action_type: str = "button",
    selected_option: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A block_actions payload for one clicked element in a channel message (or in a view if given)."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        action["value"] = value
    if selected_option is not None:
        action["selected_option"] = selected_option
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": _team(),
        "user": _user(user_id, user_name),
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "trigger_id": trigger_id,
        "actions": [action],
        "is_enterprise_install": False,
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0001")}
        payload["view"] = view
        return payload
    message: dict[str, Any] = {
        "type": "message",
        "ts": message_ts,
        "user": "UBOT",
        "bot_id": "BBOT",
        "text": "",
        "blocks": message_blocks or [],
    }
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    if message_metadata is not None:
        message["metadata"] = message_metadata
    payload.update(
        {
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "channel": {"id": channel_id, "name": "sync-errors"},
            "message": message,
            "response_url": response_url,
        }
    )
    return payload


def block_actions_body(action_id: str, value: str | None = None, **fields: Any) -> str:
    """A block_actions request body (fields as in `block_actions_payload`)."""
    return form_body(block_actions_payload(action_id, value, **fields))


# ---- modals ----------------------------------------------------------------------------------------------


def view_submission_payload(
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]] | None = None,
    *,
    private_metadata: str = "",
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    view_id: str = "V0001",
    trigger_id: str = "1.1.trigger",
    response_urls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A view_submission payload; `values` is `{block_id: {action_id: {"type": ..., "value": ...}}}`."""
    return {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user_id, user_name),
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "trigger_id": trigger_id,
        "view": {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "blocks": [],
            "state": {"values": values or {}},
            "hash": "1.hash",
            "app_id": API_APP_ID,
            "bot_id": "BBOT",
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
    }


def view_submission_body(
    callback_id: str, values: dict[str, dict[str, dict[str, Any]]] | None = None, **fields: Any
) -> str:
    """A view_submission request body (fields as in `view_submission_payload`)."""
    return form_body(view_submission_payload(callback_id, values, **fields))


def plain_input(value: str) -> dict[str, Any]:
    """The state value of a plain_text_input element."""
    return {"type": "plain_text_input", "value": value}


def static_select(value: str) -> dict[str, Any]:
    """The state value of a static_select element."""
    return {
        "type": "static_select",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
    }


# ---- events ------------------------------------------------------------------------------------------------


def event_payload(event: dict[str, Any], *, event_id: str = "Ev1") -> dict[str, Any]:
    """An Events API envelope around `event`."""
    return {
        "token": "verification-token-unused",
        "team_id": TEAM_ID,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True}],
    }


def app_home_opened_body(user_id: str = USER_ID, *, event_id: str = "Ev1") -> str:
    """An app_home_opened event body (JSON; sign it with content_type=JSON)."""
    event = {"type": "app_home_opened", "user": user_id, "channel": "D1", "tab": "home", "event_ts": "1.1"}
    return json.dumps(event_payload(event, event_id=event_id))
