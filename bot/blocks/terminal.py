"""Render Block Kit as readable terminal text (the demo prints every notification with it)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from bot.blocks.message import Message

_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)\|([^>]*)>")
_BARE_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)>")
_MENTION = re.compile(r"<([@#])([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)>")
_QUOTE = re.compile(r"^>", re.MULTILINE)


def mrkdwn_to_text(text: str) -> str:
    """Turn mrkdwn into plain text: links as "label <url>", dates as their UTC fallback, mentions as @U1."""
    text = _DATE.sub(r"\1", text)
    text = _LINK.sub(r"\2 <\1>", text)
    text = _BARE_LINK.sub(r"<\1>", text)
    text = _MENTION.sub(lambda m: m.group(1) + (m.group(3) or m.group(2)), text)
    text = _SPECIAL.sub(r"@\1", text)
    text = _QUOTE.sub("  │ ", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any) -> str:
    if not isinstance(obj, dict):
        return ""
    value = str(obj.get("text", ""))
    return mrkdwn_to_text(value) if obj.get("type") == "mrkdwn" else value


def _button(element: dict[str, Any]) -> str:
    label = _text(element.get("text"))
    if element.get("url"):
        return f"[{label} <{element['url']}>]"
    return f"[{label}]"


def _element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return _button(element)
    if kind in ("mrkdwn", "plain_text"):
        return _text(element)
    if kind in ("static_select", "radio_buttons"):
        return " / ".join(f"({_text(option.get('text'))})" for option in element.get("options", []))
    if kind == "plain_text_input":
        return "[" + _text(element.get("placeholder")) + " ___]"
    if kind == "image":
        return str(element.get("alt_text", ""))
    return ""


def _block(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"))
        return [title, "═" * min(len(title), 60)]
    if kind == "section":
        lines = [_text(block["text"])] if block.get("text") else []
        lines += [_text(field) for field in block.get("fields", [])]
        if block.get("accessory"):
            lines.append(_element(block["accessory"]))
        return lines
    if kind == "context":
        return ["  " + " · ".join(_element(element) for element in block.get("elements", []))]
    if kind == "actions":
        return [" ".join(_element(element) for element in block.get("elements", []))]
    if kind == "divider":
        return ["─" * 40]
    if kind == "input":
        return [f"{_text(block.get('label'))}: {_element(block.get('element', {}))}"]
    return []


def render_blocks(blocks: Sequence[Block]) -> str:
    """Render blocks as text, one or more lines per block."""
    lines: list[str] = []
    for block in blocks:
        lines += _block(block.to_dict())
    return "\n".join(lines)


def render_for_terminal(message: Message) -> str:
    """Render a message as it would read in Slack, for the terminal (falls back to its text)."""
    return render_blocks(message.blocks) if message.blocks else mrkdwn_to_text(message.text)
