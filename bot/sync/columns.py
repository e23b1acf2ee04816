"""The columns each table's reads need (`$select`): what the mappings map, look up, match, show, filter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.sync.fieldmap import MappingSpec
from bot.sync.mappings import DEFAULT_SPECS
from bot.sync.rates import EXCHANGE_RATES_TABLE
from storage.models import System

Columns = dict[str, list[str]]

# Reads outside the mappings' own fields: the exchange-rate lines of the CURRENCY mapping.
EXTRA_COLUMNS: dict[System, dict[str, tuple[str, ...]]] = {
    System.BUSINESS_CENTRAL: {
        EXCHANGE_RATES_TABLE: ("currencyCode", "startingDate", "exchangeAmount", "relationalExchangeAmount")
    },
    System.DATAVERSE: {"transactioncurrencies": ("exchangerate",)},
}


class _Probe(dict[str, Any]):
    """A row that notes every field a table filter asks for; `truthy` decides what the fields hold."""

    def __init__(self, truthy: bool) -> None:
        super().__init__()
        self.asked: list[str] = []
        self.truthy = truthy

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.append(key)
        return _Anything() if self.truthy else None

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def __contains__(self, key: object) -> bool:
        self.asked.append(str(key))
        return self.truthy


class _Anything:
    """Equal to everything and true: lets a filter's `and` chain run to its end."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True


def filter_columns(spec: MappingSpec, system: System) -> list[str]:
    """The fields a side's table filter reads (run on probe rows that make `and` and `or` chains go on)."""
    accepts = spec.side(system).accepts
    if accepts is None:
        return []
    asked: list[str] = []
    for truthy in (True, False):
        probe = _Probe(truthy)
        try:
            accepts(probe)
        except Exception:  # noqa: BLE001 (a filter that cannot run on a probe names nothing more)
            pass
        asked += probe.asked
    # "column@Microsoft.Dynamics.CRM.…" are annotations of a column, answered with it, never selected.
    return list(dict.fromkeys(name for name in asked if "@" not in name))


def side_columns(spec: MappingSpec, system: System) -> list[str]:
    """Every field the engine reads from one side of a mapping."""
    side = spec.side(system)
    names: list[str] = [side.name_field]
    if side.key_field:
        names.append(side.key_field)
    for field_map in spec.fields:
        names += field_map.fields_of(system)
    for lookup in spec.lookups:
        names.append(lookup.bc if system is System.BUSINESS_CENTRAL else lookup.value_field)
    for group in spec.match:
        names += [match.bc if system is System.BUSINESS_CENTRAL else match.dataverse for match in group]
    constants = spec.bc_constants if system is System.BUSINESS_CENTRAL else spec.dataverse_constants
    names += list(constants)
    names += filter_columns(spec, system)
    return names


def columns_by_table(specs: Iterable[MappingSpec] = DEFAULT_SPECS) -> dict[System, Columns]:
    """Per system, per entity set: the `$select` list for reads that name no columns."""
    tables: dict[System, dict[str, list[str]]] = {System.BUSINESS_CENTRAL: {}, System.DATAVERSE: {}}
    for spec in specs:
        for system in (System.BUSINESS_CENTRAL, System.DATAVERSE):
            table = spec.side(system).entity_set
            tables[system].setdefault(table, []).extend(side_columns(spec, system))
    for system, extra in EXTRA_COLUMNS.items():
        for table, names in extra.items():
            tables[system].setdefault(table, []).extend(names)
    return {
        system: {table: list(dict.fromkeys(names)) for table, names in by_table.items()}
        for system, by_table in tables.items()
    }
