"""The first plain `sync-errors sync` on a fresh store against the sandbox: error entries and duplicates.

Usage: python bench/first_sync.py [--records 60 1000 5000] [--full]

For each size: a fresh SQLite store, a fresh sandbox seeded with that many customers, one run of every
mapping (what the scheduler does the moment `serve` or `clock` starts), then counts the error entries and
the records the run created twice on either side, by the mappings' match keys (currencies by ISO code,
salespeople by e-mail, customers/accounts by name, contacts by e-mail, items/products by number). The
baseline is zero of both.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, func, select

import storage.models  # noqa: F401  (registers the tables)
from bot.connectors import BusinessCentralClient, DataverseClient, TokenProvider
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from bot.sync.engine import SyncEngine
from storage.db import make_engine
from storage.models import SyncError
from storage.schema import upgrade

Row = dict[str, Any]
KEYS: dict[tuple[str, str], Callable[[Row], str]] = {
    ("bc", "currencies"): lambda r: str(r.get("code") or ""),
    ("dv", "transactioncurrencies"): lambda r: str(r.get("isocurrencycode") or ""),
    ("bc", "salespeople"): lambda r: str(r.get("email") or "").casefold(),
    ("bc", "customers"): lambda r: str(r.get("displayName") or "").casefold(),
    ("dv", "accounts"): lambda r: str(r.get("name") or "").casefold(),
    ("bc", "contacts"): lambda r: f"{r.get('type')}:{str(r.get('email') or r.get('displayName')).casefold()}",
    ("dv", "contacts"): lambda r: str(r.get("emailaddress1") or r.get("fullname") or "").casefold(),
    ("bc", "items"): lambda r: str(r.get("number") or ""),
    ("dv", "products"): lambda r: str(r.get("productnumber") or ""),
}


def key_counts(server: SandboxServer) -> dict[tuple[str, str], Counter[str]]:
    """Records per match key, per table of both apps."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for (system, table), key in KEYS.items():
        rows: Iterable[Row] = server.state.bc_rows(table) if system == "bc" else server.state.dv_rows(table)
        counts[(system, table)] = Counter(key(row) for row in rows)
    return counts


def duplicates(
    before: dict[tuple[str, str], Counter[str]], after: dict[tuple[str, str], Counter[str]]
) -> dict[str, int]:
    """Per table, how many records share a match key beyond what the seed data already had."""
    found: dict[str, int] = {}
    for table, counter in after.items():
        extra = sum(max(0, n - max(1, before[table].get(k, 0))) for k, n in counter.items() if k)
        if extra:
            found[f"{table[0]}:{table[1]}"] = extra
    return found


def first_sync(records: int, *, full: bool) -> tuple[int, dict[str, int], float, int]:
    """Run one first sync; return (error entries, duplicates by table, seconds, jobs)."""
    server = SandboxServer(port=0, records=records, seed=7).start()
    try:
        before = key_counts(server)
        with tempfile.TemporaryDirectory() as folder, httpx.Client(timeout=60.0) as http:
            db = make_engine(f"sqlite:///{Path(folder) / 'first.db'}")
            upgrade(db)
            tokens = TokenProvider(server.token_url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
            bc = BusinessCentralClient(
                http,
                api_url=server.bc_api_url,
                tokens=tokens,
                company_id=server.company_id,
                web_url=server.bc_web_url,
            )
            dv = DataverseClient(http, environment_url=server.dataverse_url, tokens=tokens)
            engine = SyncEngine(db=db, bc=bc, dataverse=dv, channel=None)
            started = time.perf_counter()
            jobs = engine.run(full=full)
            elapsed = time.perf_counter() - started
            with Session(db) as session:
                errors = int(session.exec(select(func.count()).select_from(SyncError)).one())
            tokens.close()
            db.dispose()
        return errors, duplicates(before, key_counts(server)), elapsed, len(jobs)
    finally:
        server.stop()


def main() -> None:
    """Run the first sync at each size and print the figures next to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[60, 1000, 5000])
    parser.add_argument("--full", action="store_true", help="run `sync --full` instead of a plain sync")
    args = parser.parse_args()
    print(f"{'records':>8}{'errors':>10}{'duplicates':>12}{'baseline':>10}{'seconds':>10}  by table")
    for records in args.records:
        errors, dupes, elapsed, _ = first_sync(records, full=args.full)
        detail = ", ".join(f"{table} {n}" for table, n in sorted(dupes.items())) or "-"
        print(f"{records:>8}{errors:>10}{sum(dupes.values()):>12}{'0 / 0':>10}{elapsed:>10.1f}  {detail}")


if __name__ == "__main__":
    main()
