"""The names Slack sends back, and the app manifest that must agree with them."""

from __future__ import annotations

import json
from pathlib import Path

from bot.ids import COMMAND, ActionId, BlockId, CallbackId

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.json"


def test_contract_action_ids_never_change() -> None:
    assert ActionId.RESYNC.value == "resync"
    assert ActionId.COUPLE.value == "couple"
    assert ActionId.UNCOUPLE.value == "uncouple"
    assert ActionId.RESTORE_RECORD.value == "restore_record"
    assert ActionId.DELETE_RECORD.value == "delete_record"
    assert ActionId.DELETE_ERROR.value == "delete_error"
    assert ActionId.SNOOZE.value == "snooze"
    assert ActionId.SHOW_DETAILS.value == "show_details"
    assert ActionId.PURGE_OLDER_THAN.value == "purge_older_than"
    assert ActionId.PURGE_ALL.value == "purge_all"


def test_ids_are_unique_and_within_slack_limits() -> None:
    for enum in (ActionId, CallbackId, BlockId):
        values = [member.value for member in enum]
        assert len(values) == len(set(values))
        assert all(0 < len(value) <= 255 for value in values)


def test_manifest_is_valid_json_and_agrees_with_the_code() -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert manifest["_metadata"]["major_version"] == 1
    assert manifest["display_information"]["name"]
    features = manifest["features"]
    assert [command["command"] for command in features["slash_commands"]] == [COMMAND]
    assert features["slash_commands"][0]["usage_hint"]
    assert features["slash_commands"][0]["description"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["bot_user"]["display_name"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "chat:write.public", "commands", "users:read", "channels:history"} <= scopes
    assert {"groups:history"} <= scopes
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    # Socket Mode: no request URLs anywhere.
    assert "request_url" not in settings["interactivity"]
    assert "url" not in features["slash_commands"][0]
