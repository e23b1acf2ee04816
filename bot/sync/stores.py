"""What the engine needs from the two business apps."""

from __future__ import annotations

from typing import Protocol

from bot.connectors.models import RecordStore, SystemUser, WhoAmI

SYSTEM_ADMINISTRATOR = "System Administrator"


class DataverseStore(RecordStore, Protocol):
    """A RecordStore that can also say who the integration user is and which roles it holds."""

    def who_am_i(self) -> WhoAmI:
        """Dataverse `WhoAmI` for the signed-in integration user."""
        ...

    def get_user(self, user_id: str) -> SystemUser:
        """A Dataverse user with its security roles."""
        ...
