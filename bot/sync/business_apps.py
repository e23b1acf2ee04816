"""What the engine needs from the two business apps (their tables, who the integration user is)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.connectors.models import BusinessApp, ContactRelation, SystemUser, WhoAmI

SYSTEM_ADMINISTRATOR = "System Administrator"


@runtime_checkable
class ContactRelations(Protocol):
    """Business Central's contactInformation: which customer each company contact (and person) belongs to."""

    def contact_relations(self) -> list[ContactRelation]:
        """Every contact's business relation."""
        ...


class DataverseApp(BusinessApp, Protocol):
    """A BusinessApp that can also say who the integration user is and which roles it holds."""

    def who_am_i(self) -> WhoAmI:
        """Dataverse `WhoAmI` for the signed-in integration user."""
        ...

    def get_user(self, user_id: str) -> SystemUser:
        """A Dataverse user with its security roles."""
        ...
