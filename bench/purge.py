"""Benchmark: `purge` of N error entries on SQLite against one raw `DELETE ... WHERE created_at < ...`.

Run: `python bench/purge.py [--rows 1000000] [--keep 10000] [--chunk 20000]`.
Prints the chunked purge's time next to the raw DELETE's (the baseline), the longest write transaction,
and how long `list` (newest 20 open errors) took at worst on another connection while each ran.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from storage.db import make_engine
from storage.errors import PURGE_CHUNK_ROWS, list_errors, purge_errors
from storage.models import ErrorStatus
from storage.schema import upgrade

NOW = datetime.now(UTC).replace(tzinfo=None)
CUTOFF = NOW - timedelta(days=7)


def build(path: Path, rows: int, keep: int) -> None:
    """Create a migrated store with `rows` entries older than the cutoff and `keep` newer ones."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    old = (NOW - timedelta(days=30)).isoformat(sep=" ")
    new = NOW.isoformat(sep=" ")
    insert = """
        WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :rows)
        INSERT INTO syncerror (created_at, last_seen_at, occurrences, status, mapping, direction, category,
            code, message, detail, hint, facts, fingerprint, source_system, source_table, source_id,
            source_key, source_name, destination_system, destination_table)
        SELECT :at, :at, 1, 'open', 'CUSTOMER', 'to_dataverse', 'permissions', '0x80040220',
            'Principal user is missing prvCreateAccount privilege', 'full text ' || x,
            'An admin must add prvCreateAccount to the integration user''s role.', '{}', 'fp' || x,
            'business_central', 'customers', 'id-' || x, 10000 + x, 'Customer ' || x, 'dataverse', 'accounts'
        FROM n
    """
    with engine.begin() as connection:
        connection.execute(text(insert), {"rows": rows, "at": old})
        connection.execute(text(insert), {"rows": keep, "at": new})
    engine.dispose()


class ListProbe:
    """Runs the `list` query in a loop on its own connection and keeps the worst latency."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            with Session(self.engine) as session:
                list_errors(session, status=ErrorStatus.OPEN, limit=20)
            self.latencies.append(time.perf_counter() - started)
            time.sleep(0.01)

    def __enter__(self) -> ListProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()


def run_raw(path: Path) -> tuple[float, int, ListProbe]:
    """One raw DELETE of the same rows; returns (seconds, rows, probe)."""
    engine = make_engine(f"sqlite:///{path}")
    with ListProbe(f"sqlite:///{path}") as probe:
        started = time.perf_counter()
        with engine.begin() as connection:
            deleted = connection.execute(
                text("DELETE FROM syncerror WHERE created_at < :cutoff"),
                {"cutoff": CUTOFF.isoformat(sep=" ")},
            ).rowcount
        seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, deleted, probe


def run_purge(path: Path, chunk: int) -> tuple[float, int, list[float], float, ListProbe]:
    """The bot's chunked purge; returns (seconds, rows, chunk durations, longest transaction, probe)."""
    engine = make_engine(f"sqlite:///{path}")
    chunk_times: list[float] = []
    last = [time.perf_counter()]

    def tick(_done: int, _total: int) -> None:
        now = time.perf_counter()
        chunk_times.append(now - last[0])
        last[0] = now

    with ListProbe(f"sqlite:///{path}") as probe:
        started = time.perf_counter()
        last[0] = started
        result = purge_errors(
            engine, older_than=CUTOFF.replace(tzinfo=UTC), chunk_rows=chunk, on_progress=tick
        )
        seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, result.deleted, chunk_times, result.longest_transaction, probe


def main() -> None:
    """Build the data once, copy it, run both deletes, print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=PURGE_CHUNK_ROWS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base.db"
        print(f"building {args.rows:,} old + {args.keep:,} recent entries ...", flush=True)
        build(base, args.rows, args.keep)
        raw_db, purge_db = Path(folder) / "raw.db", Path(folder) / "purge.db"
        for target in (raw_db, purge_db):
            shutil.copy(base, target)
        raw_seconds, raw_rows, raw_probe = run_raw(raw_db)
        purge_seconds, purge_rows, chunks, longest, purge_probe = run_purge(purge_db, args.chunk)
    print()
    print(f"{'':32}{'sync-errors purge':>20}{'raw DELETE':>16}")
    print(f"{'rows deleted':32}{purge_rows:>20,}{raw_rows:>16,}")
    print(f"{'seconds':32}{purge_seconds:>20.2f}{raw_seconds:>16.2f}")
    print(f"{'ratio to raw DELETE':32}{purge_seconds / raw_seconds:>20.2f}×{1:>15.2f}×")
    print(f"{'longest write transaction (ms)':32}{longest * 1000:>20.0f}{raw_seconds * 1000:>16.0f}")
    print(f"{'chunk incl. checkpoint, median':32}{statistics.median(chunks) * 1000:>20.0f}{'—':>16}")
    print(f"{'chunk incl. checkpoint, worst':32}{max(chunks) * 1000:>20.0f}{'—':>16}")
    print(
        f"{'worst `list` during it (ms)':32}{max(purge_probe.latencies) * 1000:>20.0f}"
        f"{max(raw_probe.latencies) * 1000:>16.0f}"
    )
    print(f"{'`list` answers during it':32}{len(purge_probe.latencies):>20,}{len(raw_probe.latencies):>16,}")
    print("\ntargets: purge no slower than the raw DELETE; no write transaction longer than 200 ms")


if __name__ == "__main__":
    main()
