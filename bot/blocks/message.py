"""The value every builder returns: Block Kit blocks plus the plain-text fallback Slack requires."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
# Slack refuses messages with msg_blocks_too_long at ~13k characters of blocks, below any documented limit.
MAX_MESSAGE_CHARS = 12_000


_DICT = "_sync_errors_dict"


def block_dict(block: Block) -> dict[str, Any]:
    """The block as a JSON-ready dict, converted once per block object.

    slack_sdk validates the whole block on every to_dict(); a builder measures a message's size and then
    sends it, so the conversion is kept on the (never modified afterwards) block.
    """
    cached: dict[str, Any] | None = block.__dict__.get(_DICT)
    if cached is None:
        cached = block.to_dict()
        block.__dict__[_DICT] = cached
    return cached


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
