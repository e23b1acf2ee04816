"""The value every builder returns: Block Kit blocks plus the plain-text fallback Slack requires."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
# Slack refuses messages with msg_blocks_too_long at ~13k characters of blocks, below any documented limit.
MAX_MESSAGE_CHARS = 12_000


_DICT = "_sync_errors_dict"

# slack_sdk classes whose to_dict is JsonObject's own: validate, then every non-empty attribute in name order.
# For these block_dict builds the same dict without the validation pass (a third of a reply's CPU); the tests
# compare it with slack_sdk's validated to_dict for every message they build (tests/bot/blocks/checks.py).
_PLAIN_CLASSES = frozenset(
    {
        ActionsBlock,
        ButtonElement,
        ContextBlock,
        DividerBlock,
        HeaderBlock,
        MarkdownTextObject,
        PlainTextObject,
        SectionBlock,
    }
)
_ATTRIBUTES: dict[type, tuple[str, ...]] = {}


def block_dict(block: Block) -> dict[str, Any]:
    """The block as a JSON-ready dict (what slack_sdk's to_dict gives), converted once per block object.

    A builder measures a message's size and then sends it, so the conversion is kept on the (never modified
    afterwards) block.
    """
    cached: dict[str, Any] | None = block.__dict__.get(_DICT)
    if cached is None:
        cached = _plain(block)
        block.__dict__[_DICT] = cached
    return cached


_SCALARS = frozenset({str, int, float, bool})


def _plain(value: Any) -> Any:
    """JsonObject.get_non_null_attributes without the validation, for the classes above; to_dict otherwise."""
    if type(value) in _SCALARS:  # most values: nothing to convert
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    kind = type(value)
    if kind in _PLAIN_CLASSES and kind.to_dict is JsonObject.to_dict:
        names = _ATTRIBUTES.get(kind)
        if names is None:
            names = _ATTRIBUTES[kind] = tuple(sorted(value.attributes))
        plain: dict[str, Any] = {}
        for name in names:
            item = getattr(value, name, None)
            if item is None or (hasattr(item, "__len__") and len(item) == 0):
                continue
            plain[name] = _plain(item)
        return plain
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return {key: _plain(item) for key, item in to_dict().items()}
    return value


@dataclass(frozen=True)
class Message:
    """A Slack message: `text` (notification and accessibility fallback) and its blocks."""

    text: str
    blocks: Sequence[Block] = field(default_factory=tuple)

    def block_dicts(self) -> list[dict[str, Any]]:
        """Return the blocks as JSON-ready dicts."""
        return [block_dict(block) for block in self.blocks]

    def to_dict(self) -> dict[str, Any]:
        """Return {"text", "blocks"}, ready for chat.postMessage, chat.update or respond()."""
        return {"text": self.text, "blocks": self.block_dicts()}
