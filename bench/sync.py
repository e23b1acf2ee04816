"""Benchmark the sync engine on the sandbox: a full CUSTOMER sync, then a run with nothing changed.

Usage: python bench/sync.py [--records 10000] [--page-size 1000]

Prints records/s, HTTP requests next to the minimum possible (records / batch size + pages), and peak memory.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from bot.connectors import BusinessCentralClient, DataverseClient, TokenProvider
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from bot.sync.engine import SyncEngine
from storage.db import make_engine

DATAVERSE_BATCH = 1000
DATAVERSE_LIMIT_PER_5_MIN = 6000


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--no-trace", action="store_true", help="skip tracemalloc (it slows Python down)")
    args = parser.parse_args()

    print(f"seeding the sandbox with {args.records} customers ...", flush=True)
    server = SandboxServer(port=0, records=args.records, seed=7).start()
    try:
        for account in list(server.state.dv_rows("accounts")):  # an empty Dataverse side for accounts
            server.state.dv_delete("accounts", str(account["accountid"]))
        for contact in list(server.state.dv_rows("contacts")):
            server.state.dv_delete("contacts", str(contact["contactid"]))
        customers = len(server.state.bc_rows("customers"))
        with tempfile.TemporaryDirectory() as folder, httpx.Client(timeout=60.0) as http:
            db = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
            SQLModel.metadata.create_all(db)
            tokens = TokenProvider(server.token_url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
            bc = BusinessCentralClient(
                http,
                api_url=server.bc_api_url,
                tokens=tokens,
                company_id=server.company_id,
                web_url=server.bc_web_url,
            )
            dv = DataverseClient(http, environment_url=server.dataverse_url, tokens=tokens)
            engine = SyncEngine(db=db, bc=bc, dataverse=dv, channel=None, page_size=args.page_size)
            engine.run(["SALESPEOPLE", "CURRENCY"], full=True)  # the dependencies, not measured

            before = server.request_count()
            if not args.no_trace:
                tracemalloc.start()
            started = time.perf_counter()
            jobs = engine.run(["CUSTOMER"], full=True)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory() if tracemalloc.is_tracing() else (0, 0)
            tracemalloc.stop()
            full_requests = server.request_count() - before
            out = next(j for j in jobs if str(j.direction) == "to_dataverse" and str(j.type) == "sync")

            engine.run(["CUSTOMER"])  # reads back its own writes once
            before = server.request_count()
            started = time.perf_counter()
            engine.run(["CUSTOMER"])
            idle_elapsed = time.perf_counter() - started
            idle_requests = server.request_count() - before
            tokens.close()
            db.dispose()
    finally:
        server.stop()

    pages = math.ceil(customers / args.page_size) + 1  # BC customers + the (empty) Dataverse accounts
    minimum = math.ceil(customers / DATAVERSE_BATCH) + pages + 2  # + WhoAmI and the user's roles
    print()
    print(f"{'':34}{'figure':>14}{'baseline':>14}")
    print(f"{'customers':34}{customers:>14}")
    print(f"{'inserted / failed':34}{f'{out.inserted} / {out.failed}':>14}")
    print(f"{'full sync seconds':34}{elapsed:>14.2f}")
    print(f"{'full sync records/s':34}{customers / elapsed:>14.0f}")
    print(
        f"{'full sync HTTP requests':34}{full_requests:>14}{minimum:>14}  (records/batch + pages + preflight)"
    )
    print(f"{'  share of 6,000 per 5 min':34}{full_requests / DATAVERSE_LIMIT_PER_5_MIN:>14.1%}")
    print(f"{'full sync peak memory (MiB)':34}{peak / 2**20:>14.1f}")
    print(f"{'nothing-changed HTTP requests':34}{idle_requests:>14}{4:>14}  (one query per side + preflight)")
    print(f"{'nothing-changed seconds':34}{idle_elapsed:>14.2f}")


if __name__ == "__main__":
    main()
