"""Record references people type: `customer:10000`, `account:6f1c…`, or a bare GUID."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.sync.mappings import DEFAULT_SPECS
from storage.models import System

_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
_KEY = re.compile(r"^[\w.\-/ ]{1,100}$")

BC_TABLES: dict[str, str] = {}  # accepted spelling -> singular name
DATAVERSE_TABLES: dict[str, str] = {}
for _spec in DEFAULT_SPECS:
    BC_TABLES[_spec.bc.name] = BC_TABLES[_spec.bc.entity_set] = _spec.bc.name
    DATAVERSE_TABLES[_spec.dataverse.name] = DATAVERSE_TABLES[_spec.dataverse.entity_set] = (
        _spec.dataverse.name
    )

ACCEPTED_FORMS = (
    "customer:10000 (a Business Central table and number or code)",
    "account:6f1c0c7e-… (a Dataverse table and GUID)",
    "6f1c0c7e-… (a bare GUID of a coupled record)",
)


class BadReference(ValueError):
    """A record reference that cannot be parsed; the message says why and shows the accepted forms."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        forms = "; ".join(ACCEPTED_FORMS)
        super().__init__(f"{reason} Accepted forms: {forms}.")


@dataclass(frozen=True)
class RecordReference:
    """A parsed reference: system and table (None for a bare GUID), and an id or a human key."""

    text: str
    system: System | None = None
    table: str | None = None  # singular / logical name
    id: str | None = None
    key: str | None = None

    @property
    def bare(self) -> bool:
        """True for a bare GUID whose system is found through couplings."""
        return self.system is None

    def __str__(self) -> str:
        return self.text


def as_guid(text: str) -> str | None:
    """The GUID in lower case (braces stripped), or None when the text is no GUID."""
    match = _GUID.match(text.strip())
    return match.group(1).lower() if match else None


def parse_ref(text: str) -> RecordReference:
    """Parse a record reference; raises BadReference saying what was wrong."""
    raw = (text or "").strip()
    if not raw:
        raise BadReference(text, "The record reference is empty.")
    guid = as_guid(raw)
    if guid is not None:
        return RecordReference(text=raw, id=guid)
    table, sep, value = raw.partition(":")
    table, value = table.strip().lower(), value.strip()
    if not sep:
        raise BadReference(text, f"{raw!r} is neither TABLE:VALUE nor a GUID.")
    if not value:
        raise BadReference(text, f"{raw!r} names the table {table!r} but no record after the colon.")
    guid = as_guid(value)
    if guid is not None and table in DATAVERSE_TABLES:
        return RecordReference(text=raw, system=System.DATAVERSE, table=DATAVERSE_TABLES[table], id=guid)
    if table in BC_TABLES:
        if guid is not None:
            return RecordReference(text=raw, system=System.BUSINESS_CENTRAL, table=BC_TABLES[table], id=guid)
        if not _KEY.match(value):
            raise BadReference(text, f"{value!r} is not a valid number or code.")
        return RecordReference(text=raw, system=System.BUSINESS_CENTRAL, table=BC_TABLES[table], key=value)
    if table in DATAVERSE_TABLES:
        raise BadReference(text, f"A Dataverse record needs a GUID after {table!r}:, not {value!r}.")
    known = ", ".join(sorted({*BC_TABLES.values(), *DATAVERSE_TABLES.values()}))
    raise BadReference(text, f"Unknown table {table!r} (known tables: {known}).")
