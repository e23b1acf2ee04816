"""OData helpers shared by both APIs: timestamps, literals, query strings and rows as Records."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.connectors.models import Record, SystemName

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FRACTION = re.compile(r"\.(\d+)")
# Characters OData expects verbatim in a query string; everything else is percent-encoded.
_QUERY_SAFE = "$'(),:/=;"


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, milliseconds only when there are some (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        # Truncating (never rounding up) keeps "gt since" from skipping a row changed in the same millisecond.
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def parse_timestamp(value: Any) -> datetime:
    """Parse an API timestamp ("2024-01-01T10:00:00.1234567Z") as an aware UTC datetime; EPOCH when absent."""
    if not isinstance(value, str) or not value:
        return EPOCH
    text = _FRACTION.sub(lambda match: "." + match.group(1)[:6].ljust(6, "0"), value.strip(), count=1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return EPOCH
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def literal(value: Any) -> str:
    """An OData literal: quoted string (quotes doubled), bare number/bool/GUID/null, timestamp with Z."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    return "'" + str(value).replace("'", "''") + "'"


def query_string(params: Mapping[str, str]) -> str:
    """Encode query options keeping `$`, quotes and parentheses readable (`$filter=name%20eq%20'A'`)."""
    return "&".join(
        f"{quote(key, safe='$')}={quote(value, safe=_QUERY_SAFE)}" for key, value in params.items()
    )


def with_query(url: str, params: Mapping[str, str]) -> str:
    """Append encoded query options to a URL."""
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query_string(params)}"


def select_with(select: list[str] | None, *required: str) -> str | None:
    """The `$select` value: the requested columns plus the ones the connector needs, in order, once each."""
    if select is None:
        return None
    columns = list(dict.fromkeys([*required, *select]))
    return ",".join(columns)


def table_select(select: list[str] | None, configured: Sequence[str] | None) -> list[str] | None:
    """The columns to read: the caller's when named, else the table's configured ones (None: every column)."""
    if select is not None:
        return select
    return list(configured) if configured is not None else None


def any_of(field: str, values: Sequence[Any]) -> str:
    """A `$filter` matching any of `values`: `f eq a or f eq b` (both APIs accept it; OData 4.01 `in` not)."""
    return " or ".join(f"{field} eq {literal(value)}" for value in values)


def max_page_size(page_size: int | None) -> dict[str, str]:
    """The `Prefer: odata.maxpagesize=N` header, or nothing."""
    return {"Prefer": f"odata.maxpagesize={page_size}"} if page_size else {}


SHARED_VALUE_LENGTH = 24  # codes, countries, cities, postal codes: the values many rows repeat
SHARED_VALUES_PER_COLUMN = 1024  # distinct values kept per column; a column with more is mostly unique


class SharedValues:
    """One object per distinct short text of a column, for the columns whose values repeat.

    A full sync holds every row of a table, and most short values (country, currency, salesperson, city)
    repeat from row to row. Names, numbers and e-mails do not: sharing those (as `sys.intern` did) only adds
    a table entry per value, so a column stops taking new values once it has SHARED_VALUES_PER_COLUMN.
    """

    def __init__(self, per_column: int = SHARED_VALUES_PER_COLUMN) -> None:
        self._per_column = per_column
        self._columns: dict[str, dict[str, str]] = {}

    def share(self, column: str, value: str) -> str:
        """The object already kept for this column's value, else `value` (kept while the column has room)."""
        known = self._columns.get(column)
        if known is None:
            known = self._columns.setdefault(column, {})
        found = known.get(value)
        if found is not None:
            return found
        if len(known) < self._per_column:
            known[value] = value
        return value


_SHARED = SharedValues()


def row_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's properties without annotations (`@odata.etag`, `name@OData.Community…`).

    Short texts of columns whose values repeat are shared between rows (SharedValues).
    """
    share = _SHARED.share
    return {
        key: share(key, value) if type(value) is str and len(value) <= SHARED_VALUE_LENGTH else value
        for key, value in row.items()
        if "@" not in key
    }


def to_record(
    system: SystemName,
    table: str,
    row: Mapping[str, Any],
    *,
    id_field: str,
    modified_field: str,
    modified_by_field: str | None = None,
) -> Record:
    """Wrap one API row as a Record."""
    modified_by = row.get(modified_by_field) if modified_by_field else None
    return Record(
        system=system,
        table=table,
        id=str(row.get(id_field) or ""),
        fields=row_fields(row),
        etag=row.get("@odata.etag"),
        modified_at=parse_timestamp(row.get(modified_field)),
        modified_by=str(modified_by) if modified_by else None,
    )
