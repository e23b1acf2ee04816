"""The shapes of a mapping's definition: tables, field mappings, lookups and match criteria."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sync.transforms import Transform, same
from storage.models import DeletionConflictResolution, Direction, System, UpdateConflictResolution

RecordFilter = Callable[[dict[str, Any]], bool]


def flows(mapping_or_field: Direction, direction: Direction) -> bool:
    """True when something mapped in `mapping_or_field` direction carries data in the one-way `direction`."""
    return mapping_or_field in (Direction.BIDIRECTIONAL, direction)


@dataclass(frozen=True)
class TableSide:
    """One side of a mapping: the API's entity set, its singular (logical) name, and its human fields."""

    system: System
    entity_set: str  # what the connector calls the table: "customers", "accounts"
    name: str  # what people type and read: "customer", "account"
    key_field: str | None  # human key: BC number/code, e.g. "number"; Dataverse e.g. "accountnumber"
    name_field: str  # display name: "displayName", "name", "fullname"
    caption: str  # "Customer", "Account"
    accepts: RecordFilter | None = None  # the mapping's table filter; None takes every record
    filter_text: str = ""  # the filter in Business Central's words, e.g. "Type = Person, Company No. set"

    @property
    def id_field(self) -> str:
        """The primary key's name: Business Central's `id` (SystemId), Dataverse's `<logical name>id`."""
        return "id" if self.system is System.BUSINESS_CENTRAL else f"{self.name}id"

    def key_of(self, fields: dict[str, Any]) -> str | None:
        """The record's human key, or None."""
        value = fields.get(self.key_field) if self.key_field else None
        return str(value) if value not in (None, "") else None

    def name_of(self, fields: dict[str, Any]) -> str | None:
        """The record's display name, or None."""
        value = fields.get(self.name_field)
        return str(value) if value not in (None, "") else None


@dataclass(frozen=True)
class FieldMap:
    """Integration Field Mapping: BC fields <-> Dataverse columns, with direction and transforms."""

    bc: tuple[str, ...]
    dataverse: tuple[str, ...]
    direction: Direction = Direction.BIDIRECTIONAL
    to_dataverse: Transform = same
    from_dataverse: Transform = same

    def label(self) -> str:
        """ "<bc fields> ↔ <dataverse columns>", as named in an update conflict."""
        return f"{'+'.join(self.bc)} ↔ {'+'.join(self.dataverse)}"

    def fields_of(self, system: System) -> tuple[str, ...]:
        """The field names on one side."""
        return self.bc if system is System.BUSINESS_CENTRAL else self.dataverse

    def forward(self, direction: Direction) -> Transform:
        """The transform that carries values in a one-way direction."""
        return self.to_dataverse if direction is Direction.TO_DATAVERSE else self.from_dataverse

    def backward(self, direction: Direction) -> Transform:
        """The transform of the opposite direction (used to see that a lossy value is already equivalent)."""
        return self.from_dataverse if direction is Direction.TO_DATAVERSE else self.to_dataverse


def pair(bc: str, dataverse: str, direction: Direction = Direction.BIDIRECTIONAL) -> FieldMap:
    """A one-to-one field mapping without transform."""
    return FieldMap((bc,), (dataverse,), direction)


@dataclass(frozen=True)
class Lookup:
    """A field that points at a record of another mapping, resolved through that mapping's couplings.

    Business Central holds the dependency's human key (e.g. currencyCode "EUR"); Dataverse holds a lookup
    read as `_<navigation>_value` and written as `<bind>@odata.bind: /<entity set>(<guid>)`.
    """

    bc: str  # e.g. "currencyCode"
    navigation: str  # e.g. "transactioncurrencyid"
    target: str  # the dependency's mapping, e.g. "CURRENCY"
    direction: Direction = Direction.BIDIRECTIONAL
    bind: str | None = None  # write-side property when it differs, e.g. "parentcustomerid_account"
    caption: str = ""  # e.g. "Currency Code"
    # The BC field is a company contact's number; the target is the customer that company contact has its
    # business relation with (Business Central's contactInformation), never found by name.
    via_relation: bool = False

    @property
    def value_field(self) -> str:
        """The read-side column holding the target's GUID."""
        return f"_{self.navigation}_value"

    @property
    def bind_field(self) -> str:
        """The write-side property name."""
        return f"{self.bind or self.navigation}@odata.bind"


@dataclass(frozen=True)
class MatchField:
    """One criterion of match-based coupling: values equal on both sides."""

    bc: str
    dataverse: str


@dataclass(frozen=True)
class MappingSpec:
    """Everything the engine knows about one mapping (Integration Table Mapping + field mappings)."""

    name: str
    bc: TableSide
    dataverse: TableSide
    direction: Direction
    fields: tuple[FieldMap, ...]
    lookups: tuple[Lookup, ...] = ()
    match: tuple[tuple[MatchField, ...], ...] = ()  # criterion groups in priority order
    dependencies: tuple[str, ...] = ()
    sync_only_coupled: bool = True  # Business Central's default for every mapping it sets up
    deletion_conflict: DeletionConflictResolution = DeletionConflictResolution.NONE
    update_conflict: UpdateConflictResolution = UpdateConflictResolution.NONE
    dataverse_constants: dict[str, Any] = field(default_factory=dict)  # written on create in Dataverse
    bc_constants: dict[str, Any] = field(default_factory=dict)  # written on create in Business Central
    needs_exchange_rate: bool = False  # Dataverse `exchangerate` from BC's latest rate line (CURRENCY)

    def side(self, system: System) -> TableSide:
        """The table side of one system."""
        return self.bc if system is System.BUSINESS_CENTRAL else self.dataverse

    def fields_for(self, direction: Direction) -> tuple[FieldMap, ...]:
        """The field mappings that carry data in a one-way direction."""
        return tuple(f for f in self.fields if flows(f.direction, direction))

    def lookups_for(self, direction: Direction) -> tuple[Lookup, ...]:
        """The lookups that carry data in a one-way direction."""
        return tuple(lookup for lookup in self.lookups if flows(lookup.direction, direction))
