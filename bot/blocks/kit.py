"""Small Block Kit constructors and the packing that keeps messages inside Slack's limits."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks import mrkdwn
from bot.blocks.message import MAX_MESSAGE_BLOCKS, MAX_MESSAGE_CHARS, block_dict

SECTION_CHARS = 3000
HEADER_CHARS = 150
BUTTON_TEXT_CHARS = 75
CONTEXT_CHARS = 2000

# json.dumps(value, ensure_ascii=False) without building a new encoder per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def header(text: str) -> HeaderBlock:
    """A header block (plain text, cut to Slack's 150 characters)."""
    return HeaderBlock(text=PlainTextObject(text=mrkdwn.cut(text, HEADER_CHARS), emoji=True))


def markdown(text: str, limit: int = 2000) -> MarkdownTextObject:
    """A mrkdwn text object (for section fields, cut to Slack's 2000 characters)."""
    return MarkdownTextObject(text=mrkdwn.cut(text, limit))


def section(text: str, *, accessory: ButtonElement | None = None) -> SectionBlock:
    """A mrkdwn section (text cut to Slack's 3000 characters)."""
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn.cut(text, SECTION_CHARS)), accessory=accessory)


def context(*parts: str) -> ContextBlock:
    """A context line of mrkdwn parts joined by " · " in one element."""
    text = " · ".join(part for part in parts if part)
    return ContextBlock(elements=[MarkdownTextObject(text=mrkdwn.cut(text, CONTEXT_CHARS))])


def confirm(title: str, text: str, yes: str, no: str) -> ConfirmObject:
    """A danger-styled confirm dialog, cut to Slack's limits (title 100, text 300, buttons 30)."""
    return ConfirmObject(
        title=mrkdwn.cut(title, 100),
        text=PlainTextObject(text=mrkdwn.cut(text, 300)),
        confirm=mrkdwn.cut(yes, 30),
        deny=mrkdwn.cut(no, 30),
        style="danger",
    )


def button(
    label: str,
    action_id: str,
    value: str | None = None,
    *,
    style: str | None = None,
    confirm_with: ConfirmObject | None = None,
    url: str | None = None,
) -> ButtonElement:
    """A button; `confirm_with` makes Slack ask first (the action only arrives after "yes")."""
    return ButtonElement(
        text=PlainTextObject(text=mrkdwn.cut(label, BUTTON_TEXT_CHARS), emoji=True),
        action_id=action_id,
        value=value,
        style=style,
        confirm=confirm_with,
        url=url,
    )


def actions(buttons: Sequence[ButtonElement], *, block_id: str | None = None) -> ActionsBlock:
    """An actions block (at most 25 elements)."""
    return ActionsBlock(elements=list(buttons)[:25], block_id=block_id)


def pack_lines(lines: Iterable[str], *, limit: int = SECTION_CHARS - 100) -> list[SectionBlock]:
    """Pack lines into as few sections as fit (one line per row), each under the section limit."""
    blocks: list[SectionBlock] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        line = mrkdwn.cut(line, limit)
        if chunk and size + len(line) + 1 > limit:
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def size(blocks: Sequence[Block]) -> int:
    """Characters the blocks take as JSON, each block apart (an upper bound of what Slack counts)."""
    if not blocks:
        return 0
    # One encoding of the list: the sum of the blocks' own encodings plus "[", "]" and a ", " between two.
    return len(_ENCODE([block_dict(block) for block in blocks])) - 2 * len(blocks)


def within(
    count: int, chars: int, *, max_blocks: int = MAX_MESSAGE_BLOCKS, max_chars: int = MAX_MESSAGE_CHARS
) -> bool:
    """Whether `count` blocks taking `chars` characters (see size) stay inside a message's budgets."""
    return count <= max_blocks and chars <= max_chars


def fits(
    blocks: Sequence[Block], *, max_blocks: int = MAX_MESSAGE_BLOCKS, max_chars: int = MAX_MESSAGE_CHARS
) -> bool:
    """Whether blocks stay inside a message's block and character budgets."""
    return len(blocks) <= max_blocks and size(blocks) <= max_chars


def most_that_fit(
    head: Sequence[Block], items: Sequence[Block], tail: Callable[[int], list[Block]]
) -> tuple[int, list[Block]]:
    """The most items (at least one) that fit between `head` and `tail(shown)`, and those blocks.

    The same answer as trying `fits([*head, *items[:shown], *tail(shown)])` for shown = len(items), then one
    less and so on, but each head and item block is encoded once (only the tail is measured anew).
    """
    shown = len(items)
    blocks = [*head, *items, *tail(shown)]
    if fits(blocks) or shown <= 1:
        return shown, blocks
    sizes = [size([item]) for item in items]
    chars = size(head) + sum(sizes)
    while shown > 1:
        shown -= 1
        chars -= sizes[shown]
        end = tail(shown)
        if within(len(head) + shown + len(end), chars + size(end)):
            break
    return shown, [*head, *items[:shown], *tail(shown)]
