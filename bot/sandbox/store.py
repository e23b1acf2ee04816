"""The data behind both stand-in apps: rows per table, one lock, ETag counters and an undo journal."""

from __future__ import annotations

import base64
import random
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

Side = Literal["bc", "dataverse"]
Row = dict[str, Any]


class DataStore:
    """Tables of both sides (`tables[side][table][id] = row`); every row carries its `@odata.etag`."""

    def __init__(self, seed: int) -> None:
        self.lock = threading.RLock()
        self.tables: dict[Side, dict[str, dict[str, Row]]] = {"bc": {}, "dataverse": {}}
        self._ids = random.Random(f"sandbox-runtime-ids-{seed}")
        self._bc_version = 0
        self._dv_version = 1_000_000
        self._journal: list[tuple[Side, str, str, Row | None]] | None = None

    def new_id(self) -> str:
        """A fresh GUID (deterministic per seed, like everything else in the sandbox)."""
        with self.lock:
            return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def next_bc_etag(self) -> str:
        """A new Business Central ETag: opaque, weak, different on every write."""
        with self.lock:
            self._bc_version += 1
            inner = f"'20;{self._bc_version:019d}{self._ids.randrange(10**8):08d};00;'"
        return 'W/"' + base64.b64encode(inner.encode()).decode() + '"'

    def next_dv_version(self) -> int:
        """The next Dataverse row version (`versionnumber`, shown as `W/"<version>"`)."""
        with self.lock:
            self._dv_version += 1
            return self._dv_version

    def table(self, side: Side, table: str) -> dict[str, Row]:
        """The rows of one table, by id (created empty on first use)."""
        return self.tables[side].setdefault(table, {})

    def put(self, side: Side, table: str, row_id: str, row: Row) -> None:
        """Insert or replace a row, journaling the previous value while a journal is open."""
        with self.lock:
            rows = self.table(side, table)
            if self._journal is not None:
                self._journal.append((side, table, row_id, rows.get(row_id)))
            rows[row_id] = row

    def remove(self, side: Side, table: str, row_id: str) -> Row | None:
        """Delete a row and return it (None when it was not there)."""
        with self.lock:
            rows = self.table(side, table)
            if row_id not in rows:
                return None
            if self._journal is not None:
                self._journal.append((side, table, row_id, rows[row_id]))
            return rows.pop(row_id)

    @contextmanager
    def journal(self) -> Iterator[None]:
        """Hold the lock and record undo information until the block ends (for batches)."""
        with self.lock:
            outer = self._journal
            if outer is None:
                self._journal = []
            try:
                yield
            finally:
                if outer is None:
                    self._journal = None

    def mark(self) -> int:
        """A savepoint inside the open journal."""
        return len(self._journal) if self._journal is not None else 0

    def rollback_to(self, mark: int) -> None:
        """Undo every write journaled after `mark`."""
        with self.lock:
            if self._journal is None:
                return
            while len(self._journal) > mark:
                side, table, row_id, previous = self._journal.pop()
                rows = self.table(side, table)
                if previous is None:
                    rows.pop(row_id, None)
                else:
                    rows[row_id] = previous
