"""What the doctor needs from the connectors and the token provider (structural, so tests can pass fakes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from bot.connectors.models import Record, SystemUser, WhoAmI


class TokenSource(Protocol):
    """Fetches an access token per API scope (TokenProvider)."""

    def access_token(self, scope: str) -> str:
        """Return a valid access token for `scope`; raises AuthenticationFailed when sign-in is refused."""
        ...


class RecordReader(Protocol):
    """Reads pages of records (the read half of BusinessApp)."""

    def iter_changed(
        self,
        table: str,
        *,
        since: datetime | None = None,
        select: list[str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Record]]:
        """Yield pages of records modified after `since` (all records when None)."""
        ...


class BusinessCentralApi(RecordReader, Protocol):
    """BusinessCentralClient as the doctor uses it."""

    def companies(self) -> list[dict[str, Any]]:
        """Every company of the environment."""
        ...


class DataverseApi(RecordReader, Protocol):
    """DataverseClient as the doctor uses it."""

    def who_am_i(self) -> WhoAmI:
        """The signed-in user."""
        ...

    def get_user(self, user_id: str) -> SystemUser:
        """A user with its security roles."""
        ...

    def find_application_user(self, client_id: str) -> SystemUser | None:
        """The application user of an Entra client id, or None."""
        ...

    def user_privileges(self, user_id: str) -> list[str]:
        """Names of the privileges a user holds (e.g. "prvCreateAccount")."""
        ...
