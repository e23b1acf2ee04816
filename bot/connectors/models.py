"""Plain data the connectors hand out: records, batch operations and their results, identities."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from bot.connectors.errors import ConnectorError

SystemName = Literal["business_central", "dataverse"]
Method = Literal["POST", "PATCH", "DELETE"]
Outcome = Literal["written", "refused", "unknown"]


@dataclass(frozen=True, slots=True)
class Record:
    """One row as an API returned it.

    `fields` holds the JSON properties without `@odata.*` annotations (lookups keep the API's own
    names, e.g. Dataverse `_transactioncurrencyid_value`). `modified_by` is the Dataverse
    `_modifiedby_value`; Business Central's API does not expose who modified a record, so it is None there.
    """

    system: SystemName
    table: str
    id: str
    fields: dict[str, Any]
    etag: str | None
    modified_at: datetime
    modified_by: str | None = None


@dataclass(frozen=True, slots=True)
class BatchOperation:
    """One write inside a `$batch`; `ref` is the caller's key to find its result again.

    For a POST, `id` is the primary key the caller chose for the new record (Dataverse accepts it in the
    body; the connector puts it there): after a lost answer, the record can be looked up by that id.
    """

    method: Method
    table: str
    ref: str
    id: str | None = None
    body: dict[str, Any] | None = None
    etag: str | None = "*"


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The outcome of one `BatchOperation`: the written record, or the typed error."""

    ref: str
    status: int
    record: Record | None = None
    error: ConnectorError | None = None
    unknown: bool = False  # sent, but the answer was lost: the write may or may not have been applied

    @property
    def ok(self) -> bool:
        """True when the operation succeeded."""
        return self.error is None

    @property
    def outcome(self) -> Outcome:
        """ "written", "refused" (certainly not applied) or "unknown" (answer lost: look the record up)."""
        if self.error is None:
            return "written"
        return "unknown" if self.unknown else "refused"


@dataclass(frozen=True, slots=True)
class WhoAmI:
    """Dataverse `WhoAmI` answer."""

    user_id: str
    business_unit_id: str
    organization_id: str


@dataclass(frozen=True, slots=True)
class SystemUser:
    """A Dataverse user with its security roles (names)."""

    id: str
    fullname: str
    access_mode: int  # 4 = Non-interactive
    is_disabled: bool
    application_id: str | None
    roles: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ContactRelation:
    """Business Central's contactInformation: a contact and the customer (vendor, …) it belongs to."""

    contact_id: str
    contact_number: str
    contact_type: str  # "Company" or "Person"
    related_id: str
    related_type: str  # "Customer", "Vendor", …


class BusinessApp(Protocol):
    """What the sync engine needs from either business app."""

    system: SystemName

    def iter_changed(
        self,
        table: str,
        *,
        since: datetime | None = None,
        select: list[str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Record]]:
        """Yield pages of records modified after `since` (all records when None), following nextLink."""
        ...

    def get(self, table: str, record_id: str) -> Record:
        """Return one record; raises NotFound."""
        ...

    def create(self, table: str, body: dict[str, Any]) -> Record:
        """Create a record and return it as stored."""
        ...

    def update(self, table: str, record_id: str, body: dict[str, Any], *, etag: str | None = "*") -> Record:
        """Update a record (If-Match: etag) and return it as stored; raises ConcurrencyConflict."""
        ...

    def delete(self, table: str, record_id: str, *, etag: str | None = "*") -> None:
        """Delete a record."""
        ...

    def batch(self, operations: list[BatchOperation]) -> list[BatchResult]:
        """Run writes in as few `$batch` requests as the API's limit allows; one result per operation."""
        ...

    def record_url(
        self,
        table: str,
        record: Record | None = None,
        *,
        record_id: str | None = None,
        key: str | None = None,
    ) -> str | None:
        """Deep link to the record in the app's web client, or None when it cannot be built."""
        ...


class KeyedBusinessApp(BusinessApp, Protocol):
    """A BusinessApp that also finds records by exact keys or ids and reports its batch limit and requests."""

    BATCH_LIMIT: int

    @property
    def requests_made(self) -> int:
        """HTTP requests sent to the API so far."""
        ...

    def find(self, table: str, field: str, value: Any) -> list[Record]:
        """Records whose `field` equals `value` exactly."""
        ...

    def find_many(self, table: str, field: str, values: Sequence[Any]) -> list[Record]:
        """Records whose `field` equals one of `values` (a few requests, not one per value)."""
        ...

    def get_many(self, table: str, record_ids: Sequence[str]) -> list[Record]:
        """The records with these ids that exist (after a lost create answer: the ones that were created)."""
        ...
