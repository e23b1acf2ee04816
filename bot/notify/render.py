"""What the delivery loop needs from the message builders (bot.blocks satisfies it as a module)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from slack_sdk.models.blocks import Block

import bot.blocks
from storage.models import SyncError


class Message(Protocol):
    """A rendered Slack message: fallback text and Block Kit blocks."""

    @property
    def text(self) -> str: ...

    @property
    def blocks(self) -> Sequence[Block]: ...

    def to_dict(self) -> dict[str, Any]: ...


class Renderer(Protocol):
    """The builders of bot.blocks used for notifications."""

    def build_error_message(self, error: SyncError, *, locale: str) -> Message: ...

    def build_repeat_reply(self, error: SyncError, *, locale: str) -> Message: ...

    def build_cause_message(self, sample: SyncError, count: int, *, locale: str) -> Message: ...

    def build_digest_message(self, errors: Sequence[SyncError], *, locale: str) -> Message: ...

    def build_digest_page(
        self, errors: Sequence[SyncError], *, page: int, pages: int, locale: str
    ) -> Message: ...

    def build_text(self, text: str) -> Message: ...


def default_renderer() -> Renderer:
    """The bot.blocks module, used as a Renderer."""
    return bot.blocks


def state_text(error: SyncError, *, locale: str) -> str:
    """One line saying what happened to an error listed in a digest thread (bot.blocks.build_state_reply)."""
    return bot.blocks.build_state_reply(error, locale=locale).text
