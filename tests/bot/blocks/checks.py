"""Assertions shared by the builder tests: Slack's limits, action ids, and text walking."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from slack_sdk.models.views import View

from bot.blocks import Message
from bot.ids import ActionId

ACTION_IDS = {member.value for member in ActionId}


def valid_message(message: Message) -> dict[str, Any]:
    """Check a message against Slack's limits and return it as a dict."""
    assert message.text.strip(), "a text fallback is required"
    assert 1 <= len(message.blocks) <= 50
    for block in message.blocks:
        block.validate_json()
    payload = message.to_dict()
    assert set(payload) == {"text", "blocks"}
    assert payload["blocks"] == [block.to_dict() for block in message.blocks]  # slack_sdk's, validated
    assert len(json.dumps(payload["blocks"], ensure_ascii=False)) <= 12_000
    _check_actions(payload["blocks"])
    return payload


def valid_view(view: View, *, max_blocks: int = 100) -> dict[str, Any]:
    """Check a modal or home view against Slack's limits and return it as a dict."""
    view.validate_json()
    payload = view.to_dict()
    assert len(payload["blocks"]) <= max_blocks
    _check_actions(payload["blocks"])
    return payload


def _check_actions(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        ids = [element["action_id"] for element in elements(block) if "action_id" in element]
        assert len(ids) == len(set(ids)), f"duplicate action_id in one block: {ids}"
        assert set(ids) <= ACTION_IDS, f"unknown action_id: {set(ids) - ACTION_IDS}"


def elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """Interactive elements of one block."""
    found = list(block.get("elements", []))
    if "accessory" in block:
        found.append(block["accessory"])
    if "element" in block:
        found.append(block["element"])
    return [element for element in found if isinstance(element, dict)]


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button of a message or view dict."""
    return [
        element
        for block in payload["blocks"]
        for element in elements(block)
        if element.get("type") == "button"
    ]


def action_ids(payload: dict[str, Any]) -> list[str]:
    """action_ids of the buttons, in order."""
    return [button["action_id"] for button in buttons(payload)]


def texts(value: Any) -> Iterator[str]:
    """Every "text" string inside a payload."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


def all_text(payload: dict[str, Any]) -> str:
    """All texts of the blocks joined (for "contains" assertions)."""
    return "\n".join(texts(payload["blocks"]))
