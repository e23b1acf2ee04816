"""In-process access to the sandbox's data: tables per side, request counters, and edits "as a person"."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from bot.sandbox.bc_records import BusinessCentralRecords
from bot.sandbox.dv_records import DataverseRecords
from bot.sandbox.seed import SeedIdentities, link_role, seed_store
from bot.sandbox.store import DataStore, Row

_HIDDEN_TABLES = {"systemuserroles", "companies"}


class SandboxState:
    """Both apps' data behind one lock. Edits made here look like a normal (non-integration) user's edits."""

    def __init__(self, seed: int, records: int) -> None:
        self.store = DataStore(seed)
        self.identities: SeedIdentities = seed_store(self.store, seed, records)
        self.bc = BusinessCentralRecords(self.store)
        self.dataverse = DataverseRecords(self.store, self.identities.base_currency_id)
        self._requests: Counter[str] = Counter()
        self._paths: Counter[str] = Counter()
        self._counter_lock = threading.Lock()

    @property
    def lock(self) -> threading.RLock:
        """The one lock around the data."""
        return self.store.lock

    @property
    def company(self) -> Row:
        """The seeded company row."""
        return dict(self.store.table("bc", "companies")[self.identities.company_id])

    # Reading -----------------------------------------------------------------------------------------------

    def bc_rows(self, table: str) -> list[Row]:
        """Copies of every Business Central row of a table."""
        with self.lock:
            return [dict(row) for row in self.bc.rows(table)]

    def dv_rows(self, table: str) -> list[Row]:
        """Copies of every Dataverse row of a table."""
        with self.lock:
            return [dict(row) for row in self.dataverse.rows(table)]

    def bc_get(self, table: str, record_id: str) -> Row | None:
        """One Business Central row by id, or None."""
        with self.lock:
            row = self.store.table("bc", table).get(record_id.lower())
            return dict(row) if row is not None else None

    def dv_get(self, table: str, record_id: str) -> Row | None:
        """One Dataverse row by id, or None."""
        return self.dataverse.find(table, record_id)

    def bc_find(self, table: str, **equals: Any) -> Row | None:
        """The first Business Central row whose fields equal the given values."""
        return next(
            (row for row in self.bc_rows(table) if all(row.get(k) == v for k, v in equals.items())), None
        )

    def dv_find(self, table: str, **equals: Any) -> Row | None:
        """The first Dataverse row whose fields equal the given values."""
        return next(
            (row for row in self.dv_rows(table) if all(row.get(k) == v for k, v in equals.items())), None
        )

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of rows per table per side."""
        with self.lock:
            return {
                side: {
                    table: len(rows) for table, rows in sorted(tables.items()) if table not in _HIDDEN_TABLES
                }
                for side, tables in self.store.tables.items()
            }

    def roles_of(self, user_id: str) -> list[str]:
        """Names of a Dataverse user's security roles."""
        return [role["name"] for role in self.dataverse.roles_of(user_id)]

    # Edits as a person in the app would make them ----------------------------------------------------------

    def bc_create(self, table: str, values: dict[str, Any]) -> Row:
        """Create a Business Central record as a user in the web client would (validated like the API)."""
        return self.bc.create(table, values)

    def bc_update(self, table: str, record_id: str, values: dict[str, Any]) -> Row:
        """Change a Business Central record: new ETag and lastModifiedDateTime."""
        return self.bc.update(table, record_id, values, if_match="*")

    def bc_delete(self, table: str, record_id: str) -> None:
        """Delete a Business Central record."""
        self.bc.delete(table, record_id, if_match="*")

    def dv_create(self, table: str, values: dict[str, Any]) -> Row:
        """Create a Dataverse row as a salesperson would (modified by a normal user, not the integration)."""
        return self.dataverse.create(table, values, self.identities.editor_user_id)

    def dv_update(self, table: str, record_id: str, values: dict[str, Any]) -> Row:
        """Change a Dataverse row: new row version, modifiedon and `_modifiedby_value` of a normal user."""
        row, _ = self.dataverse.update(table, record_id, values, self.identities.editor_user_id, if_match="*")
        return row

    def dv_delete(self, table: str, record_id: str) -> None:
        """Delete a Dataverse row."""
        self.dataverse.delete(table, record_id)

    def grant_role(self, user_id: str, role_id: str) -> None:
        """Assign a security role to a Dataverse user."""
        link_role(self.store, user_id, role_id)

    def revoke_role(self, user_id: str, role_id: str) -> None:
        """Remove a security role from a Dataverse user."""
        self.store.remove("dataverse", "systemuserroles", f"{user_id}:{role_id}")

    # Request counters --------------------------------------------------------------------------------------

    def count_request(self, path: str) -> None:
        """Record one served HTTP request."""
        segment = "/" + path.lstrip("/").split("/", 1)[0]
        with self._counter_lock:
            self._requests[segment] += 1
            self._requests[""] += 1
            self._paths[path] += 1

    def request_count(self, prefix: str | None = None) -> int:
        """Requests served, all or only those whose path starts with `prefix` (`"/bc"` excludes `/bc-web`)."""
        with self._counter_lock:
            if prefix is None:
                return self._requests[""]
            if prefix.count("/") == 1 and not prefix.endswith("/"):
                return self._requests[prefix]
            return sum(count for path, count in self._paths.items() if path.startswith(prefix))

    def request_counts(self) -> dict[str, int]:
        """Requests served per top-level prefix, plus the total."""
        with self._counter_lock:
            counts = {segment or "total": count for segment, count in self._requests.items()}
        return dict(sorted(counts.items()))
