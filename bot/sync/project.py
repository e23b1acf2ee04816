"""Carry a record's mapped values to the other side: request bodies and field-by-field comparison."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.sync.fieldmap import FieldMap, Lookup, MappingSpec
from bot.sync.transforms import normalized, same_values
from storage.models import Direction, System


@dataclass(frozen=True)
class LookupValue:
    """A resolved lookup: the value to write on the destination side; `None` means leave it alone."""

    lookup: Lookup
    value: str | None
    target_entity_set: str = ""


def source_system(direction: Direction) -> System:
    """The system a one-way direction reads from."""
    return System.BUSINESS_CENTRAL if direction is Direction.TO_DATAVERSE else System.DATAVERSE


def destination_system(direction: Direction) -> System:
    """The system a one-way direction writes to."""
    return System.DATAVERSE if direction is Direction.TO_DATAVERSE else System.BUSINESS_CENTRAL


def opposite(direction: Direction) -> Direction:
    """The other one-way direction."""
    return Direction.FROM_DATAVERSE if direction is Direction.TO_DATAVERSE else Direction.TO_DATAVERSE


def _values(fields: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(fields.get(name) for name in names)


def field_differs(
    fmap: FieldMap, direction: Direction, source: Mapping[str, Any], dest: Mapping[str, Any]
) -> bool:
    """True unless the destination already holds the source's values (in either transform's view)."""
    src_sys = source_system(direction)
    dst_sys = destination_system(direction)
    src_values = _values(source, fmap.fields_of(src_sys))
    dst_values = _values(dest, fmap.fields_of(dst_sys))
    if same_values(fmap.forward(direction)(src_values), dst_values):
        return False
    return not same_values(fmap.backward(direction)(dst_values), src_values)


def lookup_differs(resolved: LookupValue, direction: Direction, dest: Mapping[str, Any]) -> bool:
    """True when the destination's lookup does not point where the source's does."""
    if resolved.value is None:
        return False
    current = dest.get(
        resolved.lookup.value_field if direction is Direction.TO_DATAVERSE else resolved.lookup.bc
    )
    return bool(
        normalized(str(current).lower() if current else current) != normalized(resolved.value.lower())
    )


def differences(
    spec: MappingSpec,
    direction: Direction,
    source: Mapping[str, Any],
    lookups: list[LookupValue],
    dest: Mapping[str, Any],
    *,
    bidirectional_only: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> list[str]:
    """Labels ("bc ↔ dataverse") of the mapped fields whose values differ between the two records."""
    labels = []
    for fmap in spec.fields_for(direction):
        if bidirectional_only and fmap.direction is not Direction.BIDIRECTIONAL:
            continue
        if field_differs(fmap, direction, source, dest):
            labels.append(fmap.label())
    for resolved in lookups:
        if bidirectional_only and resolved.lookup.direction is not Direction.BIDIRECTIONAL:
            continue
        if lookup_differs(resolved, direction, dest):
            labels.append(f"{resolved.lookup.bc} ↔ {resolved.lookup.navigation}")
    for name, value in (extra or {}).items():
        if normalized(dest.get(name)) != normalized(value):
            labels.append(name)
    return labels


def write_body(
    spec: MappingSpec,
    direction: Direction,
    source: Mapping[str, Any],
    lookups: list[LookupValue],
    *,
    dest: Mapping[str, Any] | None = None,
    create: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The body that brings the destination up to date: every mapped field, or those differing from `dest`."""
    body: dict[str, Any] = {}
    if create:
        constants = spec.dataverse_constants if direction is Direction.TO_DATAVERSE else spec.bc_constants
        body.update(constants)
    src_sys = source_system(direction)
    dst_sys = destination_system(direction)
    for fmap in spec.fields_for(direction):
        if dest is not None and not field_differs(fmap, direction, source, dest):
            continue
        values = fmap.forward(direction)(_values(source, fmap.fields_of(src_sys)))
        for name, value in zip(fmap.fields_of(dst_sys), values, strict=True):
            body[name] = "" if value is None and dst_sys is System.BUSINESS_CENTRAL else value
    for resolved in lookups:
        if resolved.value is None or (dest is not None and not lookup_differs(resolved, direction, dest)):
            continue
        if direction is Direction.TO_DATAVERSE:
            body[resolved.lookup.bind_field] = f"/{resolved.target_entity_set}({resolved.value})"
        else:
            body[resolved.lookup.bc] = resolved.value
    for name, value in (extra or {}).items():
        if dest is None or normalized(dest.get(name)) != normalized(value):
            body[name] = value
    return body
