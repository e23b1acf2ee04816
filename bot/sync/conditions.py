"""Failures the sync engine detects itself (no API refused anything), handed to the classifier."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class EngineCondition:
    """Base of the engine's own failure conditions."""


@dataclass(frozen=True, slots=True)
class DeletedRecord(EngineCondition):
    """A coupled record was deleted on `deleted_side` ("business_central"/"dataverse") but not the other."""

    deleted_side: str
    table: str  # table of the deleted record
    record_id: str
    surviving_table: str
    surviving_key: str | None = None


@dataclass(frozen=True, slots=True)
class DependencyNotCoupled(EngineCondition):
    """A lookup points at a record that is not coupled yet (e.g. Currency Code EUR, Salesperson Code JO)."""

    dependency_mapping: str  # e.g. CURRENCY
    dependency_table: str  # the table of the record to couple first, e.g. "currencies"
    dependency_key: str  # its human key, e.g. "EUR"
    field: str  # the field that needs it, e.g. "currencyCode"
    dependency_system: str = "business_central"


@dataclass(frozen=True, slots=True)
class NoBusinessRelation(EngineCondition):
    """A contact's company has no business relation to a customer (or the customer has no company contact)."""

    contact: str  # the contact's number (to Dataverse) or its parent account's name or id (from Dataverse)
    toward: str  # "dataverse" or "business_central": where the contact was going


@dataclass(frozen=True, slots=True)
class UpdateConflict(EngineCondition):
    """Both sides changed since the last sync and bidirectional fields differ."""

    source_table: str
    destination_table: str
    fields: tuple[str, ...]  # "<source field> ↔ <destination field>" pairs that differ


@dataclass(frozen=True, slots=True)
class MissingExchangeRate(EngineCondition):
    """A currency has no exchange rate, so Dataverse cannot take it."""

    currency_code: str
    system: str = "business_central"


@dataclass(frozen=True, slots=True)
class AdminIntegrationUser(EngineCondition):
    """The integration user holds the System Administrator role; Business Central refuses such a user."""

    user_name: str
    user_id: str
    roles: tuple[str, ...] = field(default_factory=tuple)
    server: str | None = None


@dataclass(frozen=True, slots=True)
class CouplingRefused(EngineCondition):
    """A coupling cannot be made (target already coupled, no match, several matches)."""

    reason: str  # "already-coupled", "no-match", "several-matches"
    detail: str


@dataclass(frozen=True, slots=True)
class MatchCandidate:
    """One record of the other app that matches an uncoupled record."""

    id: str
    key: str | None
    name: str | None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SeveralMatches(EngineCondition):
    """An uncoupled record matches more than one uncoupled record on the other side: nothing is created."""

    table: str  # the other side's table, e.g. "accounts"
    criteria: str  # the match fields that agreed, e.g. "displayName = name"
    candidates: tuple[MatchCandidate, ...]
