"""Who asks (the actor) and the ways an operation can refuse."""

from __future__ import annotations

from dataclasses import dataclass

from bot.phrases import Phrase, english, say
from storage.models import Door


@dataclass(frozen=True)
class Actor:
    """The person (or schedule) asking, through which door, and whether they may do admin actions."""

    id: str
    door: Door
    is_admin: bool

    @property
    def mention(self) -> str:
        """How to name the actor in Slack text (a mention for Slack users)."""
        return f"<@{self.id}>" if self.door is Door.SLACK else self.id


class OperationError(Exception):
    """An operation could not be done; the message says why and what would work.

    Given a Phrase, the edge words it in the reader's language (`said`); str() stays its English, for logs.
    """

    def __init__(self, message: str | Phrase = "") -> None:
        self.phrase = message if isinstance(message, Phrase) else None
        super().__init__(english(message) if isinstance(message, Phrase) else message)

    @property
    def said(self) -> Phrase | str:
        """What to tell the reader: our phrase, or the plain text the error was raised with."""
        return self.phrase if self.phrase is not None else str(self)


class InvalidInput(OperationError):
    """The request itself was wrong (bad id, bad duration, unknown mapping)."""


class NotFound(OperationError):
    """The thing asked about does not exist (any more)."""


class NotAllowed(OperationError):
    """The actor may not do this (only SYNC_ADMINS may); `action` is its catalogue key (bot.ids.ActionKey).

    The edge words it in the reader's language (bot.blocks.build_not_allowed); the message is for logs.
    """

    def __init__(self, action: str) -> None:
        super().__init__(say("failure.not_allowed", action=repr(action)))
        self.action = action
