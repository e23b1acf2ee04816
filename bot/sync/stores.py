"""What the engine needs from the two business apps."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.connectors.models import ContactRelation, RecordStore, SystemUser, WhoAmI

SYSTEM_ADMINISTRATOR = "System Administrator"


@runtime_checkable
class ContactRelations(Protocol):
    """Business Central's contactInformation: which customer each company contact (and person) belongs to."""

    def contact_relations(self) -> list[ContactRelation]:
        """Every contact's business relation."""
        ...


class DataverseStore(RecordStore, Protocol):
    """A RecordStore that can also say who the integration user is and which roles it holds."""

    def who_am_i(self) -> WhoAmI:
        """Dataverse `WhoAmI` for the signed-in integration user."""
        ...

    def get_user(self, user_id: str) -> SystemUser:
        """A Dataverse user with its security roles."""
        ...
