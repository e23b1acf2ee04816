"""Pure value transforms between Business Central fields and Dataverse columns.

Each transform takes the tuple of values of its source fields and returns the tuple for its destination
fields, so one transform can split one field into two (a contact's name) or join two into one.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Values = tuple[Any, ...]
Transform = Callable[[Values], Values]

ACTIVE = 0
INACTIVE = 1
BC_NOT_BLOCKED = " "
BC_BLOCKED_ALL = "All"


def same(values: Values) -> Values:
    """Copy the values unchanged."""
    return values


def split_name(values: Values) -> Values:
    """Split a BC display name into Dataverse (firstname, lastname): the last word is the surname."""
    name = " ".join(str(values[0] or "").split())
    if not name:
        return ("", "")
    first, _, last = name.rpartition(" ")
    return (first, last)


def join_name(values: Values) -> Values:
    """Join Dataverse (firstname, lastname) into a Business Central display name."""
    parts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    return (" ".join(parts),)


def blocked_to_statecode(values: Values) -> Values:
    """A customer blocked for everything is an inactive account; any other value is active."""
    return (INACTIVE if str(values[0] or "").strip() == BC_BLOCKED_ALL else ACTIVE,)


def statecode_to_blocked(values: Values) -> Values:
    """An inactive account blocks the customer for everything; an active one unblocks it."""
    return (BC_BLOCKED_ALL if values[0] == INACTIVE else BC_NOT_BLOCKED,)


def exchange_rate(exchange_amount: Any, relational_amount: Any) -> Decimal | None:
    """Dataverse `exchangerate` (units of the currency per one base currency unit) from a BC rate line.

    Business Central stores "Exchange Rate Amount" units of the currency = "Relational Exch. Rate Amount"
    units of the local currency; Dataverse wants the first divided by the second.
    """
    try:
        amount = Decimal(str(exchange_amount))
        relational = Decimal(str(relational_amount))
    except (InvalidOperation, ValueError):
        return None
    if amount <= 0 or relational <= 0:
        return None
    return (amount / relational).quantize(Decimal("0.0000000001"))


def normalized(value: Any) -> Any:
    """A value as compared between the two apps: None and blank text are equal, numbers compare by value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    return value


def same_values(left: Values, right: Values) -> bool:
    """True when two value tuples are equal once normalized."""
    return len(left) == len(right) and all(
        normalized(a) == normalized(b) for a, b in zip(left, right, strict=True)
    )
