"""Checks a JSON value against a field's type, as both APIs do before they look at the data."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.sandbox.schema import EDM_TYPES, Field

GUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


class ValueTypeError(Exception):
    """The value does not fit the field's EDM type."""


def is_guid(text: str) -> bool:
    """True for a GUID in its canonical 8-4-4-4-12 form."""
    return bool(GUID_PATTERN.match(text))


def coerce(field: Field, value: Any) -> Any:
    """Return the value as stored for this field, or raise ValueTypeError with OData's message."""
    if value is None:
        return None
    kind = field.kind
    ok = (
        (kind == "string" and isinstance(value, str))
        or (kind == "guid" and isinstance(value, str) and is_guid(value))
        or (kind in ("decimal", "int") and isinstance(value, int | float) and not isinstance(value, bool))
        or (kind == "bool" and isinstance(value, bool))
        or (kind in ("datetime", "date") and isinstance(value, str))
    )
    if kind == "int" and isinstance(value, float) and not value.is_integer():
        ok = False
    if kind == "date" and ok:
        try:
            date.fromisoformat(value)
        except ValueError:
            ok = False
    if not ok:
        raise ValueTypeError(
            f"Cannot convert the literal '{value}' to the expected type '{EDM_TYPES[kind]}'."
        )
    if kind == "guid":
        return value.lower()
    if kind == "decimal":
        return float(value)
    if kind == "int":
        return int(value)
    return value
