"""What a click carries: the clicked element's value read as an error id or a number of days."""

from __future__ import annotations

from typing import Any


def clicked_value(action: dict[str, Any]) -> str:
    """The clicked element's value ("" when it has none)."""
    return str(action.get("value") or "")


def clicked_number(action: dict[str, Any]) -> int | None:
    """The value as a positive whole number (an error id, days), or None when it is not one."""
    value = clicked_value(action).strip().lstrip("#")
    if not value.isdigit() or not 0 < int(value) < 2**63:
        return None
    return int(value)
