"""Render Block Kit and Slack mrkdwn for the terminal: bold, code and links as rich styles, wrapped by rich.

`render_rich` gives a rich Text (printed by a Console, it wraps at the terminal's width and makes links
clickable where the terminal supports OSC 8); `render_for_terminal` gives the same as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from slack_sdk.models.blocks import Block

from bot.blocks.message import Message

BOLD = Style(bold=True)
ITALIC = Style(italic=True)
STRIKE = Style(strike=True)
CODE = Style(color="cyan")
DIM = Style(dim=True)
HEADER = Style(bold=True, underline=True)
BUTTON = Style(color="blue", bold=True)

# One scan over mrkdwn, in the order Slack gives precedence: code, links and specials, then emphasis.
_TOKEN = re.compile(
    r"```(?P<block>.+?)```"
    r"|`(?P<code>[^`\n]+)`"
    r"|<!date\^\d+\^[^|>]*\|(?P<date>[^>]*)>"
    r"|<(?P<url>(?:https?|mailto):[^|>]+)(?:\|(?P<label>[^>]*))?>"
    r"|<(?P<sigil>[@#])(?P<ref>[A-Z0-9]+)(?:\|(?P<refname>[^>]*))?>"
    r"|<!(?P<special>here|channel|everyone)>"
    r"|(?<![\w*])\*(?P<bold>\S(?:[^*\n]*?\S)?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<italic>\S(?:[^_\n]*?\S)?)_(?![\w_])"
    r"|(?<![\w~])~(?P<strike>\S(?:[^~\n]*?\S)?)~(?![\w~])",
    re.DOTALL,
)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn_to_rich(text: str, style: Style | None = None) -> Text:
    """Turn mrkdwn into styled text: *bold*, _italic_, `code`, links as "label (url)", dates, mentions."""
    out = Text(style=style or "")
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(_unescape(text[position : match.start()]))
        position = match.end()
        groups = match.groupdict()
        if groups["block"] is not None:
            out.append(_unescape(groups["block"].strip("\n")), CODE)
        elif groups["code"] is not None:
            out.append(_unescape(groups["code"]), CODE)
        elif groups["date"] is not None:
            out.append(_unescape(groups["date"]))
        elif groups["url"] is not None:
            _link(out, groups["url"], groups["label"])
        elif groups["sigil"] is not None:
            out.append(groups["sigil"] + _unescape(groups["refname"] or groups["ref"]), BOLD)
        elif groups["special"] is not None:
            out.append("@" + groups["special"], BOLD)
        else:
            for name, emphasis in (("bold", BOLD), ("italic", ITALIC), ("strike", STRIKE)):
                if groups[name] is not None:
                    out.append_text(mrkdwn_to_rich(groups[name], emphasis))
    out.append(_unescape(text[position:]))
    return _quotes(out)


def _link(out: Text, url: str, label: str | None) -> None:
    url = _unescape(url)
    shown = _unescape(label) if label else ""
    if not shown or shown == url:
        out.append(url, Style(link=url, underline=True))
        return
    out.append(shown, Style(link=url, underline=True))
    out.append(f" ({url})", DIM)


def _quotes(text: Text) -> Text:
    lines = text.split("\n", allow_blank=True)
    quoted = [Text("│ ", DIM) + line[1:].copy() if line.plain.startswith(">") else line for line in lines]
    return Text("\n").join(quoted)


def mrkdwn_to_text(text: str) -> str:
    """Turn mrkdwn into plain text: links as "label (url)", dates as their UTC fallback, mentions as @U1."""
    return mrkdwn_to_rich(text).plain


def _text(obj: Any) -> Text:
    if not isinstance(obj, dict):
        return Text()
    value = str(obj.get("text", ""))
    return mrkdwn_to_rich(value) if obj.get("type") == "mrkdwn" else Text(value)


def _button(element: dict[str, Any]) -> Text:
    label = _text(element.get("text"))
    if element.get("url"):
        url = str(element["url"])
        return Text.assemble("[", (label.plain, BUTTON + Style(link=url)), "]", (f" ({url})", DIM))
    return Text.assemble("[", (label.plain, BUTTON), "]")


def _element(element: dict[str, Any]) -> Text:
    kind = element.get("type")
    if kind == "button":
        return _button(element)
    if kind in ("mrkdwn", "plain_text"):
        return _text(element)
    if kind in ("static_select", "radio_buttons"):
        return Text(" / ").join(
            Text(f"({_text(option.get('text')).plain})") for option in element.get("options", [])
        )
    if kind == "plain_text_input":
        return Text("[" + _text(element.get("placeholder")).plain + " ___]")
    if kind == "image":
        return Text(str(element.get("alt_text", "")))
    return Text()


def _block(block: dict[str, Any]) -> list[Text]:
    kind = block.get("type")
    if kind == "header":
        return [Text(_text(block.get("text")).plain, HEADER)]
    if kind == "section":
        lines = [_text(block["text"])] if block.get("text") else []
        lines += [_text(field) for field in block.get("fields", [])]
        if block.get("accessory"):
            lines.append(_element(block["accessory"]))
        return lines
    if kind == "context":
        line = Text(" · ").join(_element(element) for element in block.get("elements", []))
        line.stylize(DIM)
        return [line]
    if kind == "actions":
        return [Text(" ").join(_element(element) for element in block.get("elements", []))]
    if kind == "divider":
        return [Text("─" * 40, DIM)]
    if kind == "input":
        return [Text.assemble(_text(block.get("label")), ": ", _element(block.get("element", {})))]
    return []


def render_blocks_rich(blocks: Sequence[Block]) -> Text:
    """Render blocks as styled text, one or more lines per block."""
    lines: list[Text] = []
    for block in blocks:
        lines += _block(block.to_dict())
    return Text("\n").join(lines)


def render_rich(message: Message) -> Text:
    """A message as it would read in Slack, as styled terminal text (falls back to its text)."""
    return render_blocks_rich(message.blocks) if message.blocks else mrkdwn_to_rich(message.text)


def render_blocks(blocks: Sequence[Block]) -> str:
    """Render blocks as plain text, one or more lines per block."""
    return render_blocks_rich(blocks).plain


def render_for_terminal(message: Message) -> str:
    """Render a message as it would read in Slack, as plain text (falls back to its text)."""
    return render_rich(message).plain
