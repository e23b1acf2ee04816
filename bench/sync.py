"""Benchmark a full CUSTOMER sync into an empty Dataverse: batches in flight at once against one at a time.

Usage: python bench/sync.py [--records 10000] [--latency realistic|none|MS]
                            [--only both|concurrent|baseline] [--concurrency 16] [--bc-concurrency 4]
                            [--batch-size 100] [--baseline-batch-size 1000]

Each run gets its own sandbox process (real HTTP, the services' latency and protection limits) and its own
bot process (so peak memory is that run's). Printed side by side: full sync time, records/s, peak
concurrency (as the sandbox saw it), the busiest 5 minutes against the request and execution-time budgets,
429s, peak memory, and duplicates (Dataverse accounts sharing an account number).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUESTS_PER_5_MIN = 6000
DATAVERSE_EXECUTION_SECONDS_PER_5_MIN = 1200.0


@dataclass(frozen=True)
class Run:
    """One configuration: batches in flight per service and operations per Dataverse `$batch`."""

    label: str
    dataverse_concurrency: int
    bc_concurrency: int
    batch_size: int


def serve_sandbox(records: int, latency: str, pipe: Connection) -> None:
    """Child process: a sandbox with `records` customers and no accounts or contacts in Dataverse."""
    sys.path.insert(0, str(ROOT))
    from bot.sandbox import SandboxServer

    server = SandboxServer(port=0, records=records, seed=7)
    for table, key in (("accounts", "accountid"), ("contacts", "contactid")):
        for row in list(server.state.dv_rows(table)):
            server.state.dv_delete(table, str(row[key]))
    server.set_latency(latency)
    server.start()
    pipe.send(
        {
            "token_url": server.token_url,
            "bc_api_url": server.bc_api_url,
            "bc_web_url": server.bc_web_url,
            "dataverse_url": server.dataverse_url,
            "company_id": server.company_id,
            "customers": len(server.state.bc_rows("customers")),
        }
    )
    pipe.recv()  # until the run is over
    # Duplicates are counted on the service's side, from its own rows: the truth, and not the bot's work.
    numbers = Counter(row.get("accountnumber") for row in server.state.dv_rows("accounts"))
    pipe.send(
        {
            **server._http.app.snapshot(),  # noqa: SLF001 (the sandbox's own counters)
            "accounts": sum(numbers.values()),
            "duplicates": sum(count - 1 for count in numbers.values() if count > 1),
        }
    )
    server.stop()


def run_sync(urls: dict[str, Any], run: Run, page_size: int, pipe: Connection) -> None:
    """Child process: the bot's full CUSTOMER sync against the sandbox; sends its figures back."""
    sys.path.insert(0, str(ROOT))
    import httpx
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (registers the tables)
    from bot.connectors import BusinessCentralClient, DataverseClient, TokenProvider
    from bot.connectors.pacing import BUSINESS_CENTRAL_LIMITS, DATAVERSE_LIMITS, ONE_AT_A_TIME
    from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
    from bot.services import HTTP_TIMEOUT
    from bot.sync.columns import columns_by_table
    from bot.sync.engine import SyncEngine
    from storage.db import make_engine
    from storage.models import System

    def limits(defaults: Any, concurrency: int) -> Any:
        if concurrency == 1:
            return ONE_AT_A_TIME
        from dataclasses import replace

        return replace(defaults, max_concurrency=concurrency)

    columns = columns_by_table()
    with tempfile.TemporaryDirectory() as folder, httpx.Client(timeout=HTTP_TIMEOUT) as http:
        db = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        SQLModel.metadata.create_all(db)
        tokens = TokenProvider(urls["token_url"], SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
        bc = BusinessCentralClient(
            http,
            api_url=urls["bc_api_url"],
            tokens=tokens,
            company_id=urls["company_id"],
            web_url=urls["bc_web_url"],
            pacing=limits(BUSINESS_CENTRAL_LIMITS, run.bc_concurrency),
            columns=columns[System.BUSINESS_CENTRAL],
        )
        dv = DataverseClient(
            http,
            environment_url=urls["dataverse_url"],
            tokens=tokens,
            pacing=limits(DATAVERSE_LIMITS, run.dataverse_concurrency),
            batch_size=run.batch_size,
            columns=columns[System.DATAVERSE],
        )
        engine = SyncEngine(db=db, bc=bc, dataverse=dv, channel=None, page_size=page_size)
        engine.run(["SALESPEOPLE", "CURRENCY"], full=True)  # the dependencies, not measured
        started = time.perf_counter()
        jobs = engine.run(["CUSTOMER"], full=True)
        elapsed = time.perf_counter() - started
        peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the sync's, nothing after
        out = next(j for j in jobs if str(j.direction) == "to_dataverse" and str(j.type) == "sync")
        dv_stats, bc_stats = dv.pacing_stats(), bc.pacing_stats()
        bc.close()
        dv.close()
        tokens.close()
        db.dispose()
    pipe.send(
        {
            "seconds": elapsed,
            "inserted": out.inserted,
            "failed": out.failed,
            "dv_requests_5min": dv_stats.peak_requests_per_window,
            "dv_execution_5min": dv_stats.peak_execution_seconds_per_window,
            "bc_requests_5min": bc_stats.peak_requests_per_window,
            "throttled": dv_stats.throttled + bc_stats.throttled,
            "budget_wait": dv_stats.waited_for_budget_seconds + bc_stats.waited_for_budget_seconds,
            "dv_cuts": dv_stats.decreases,
            "dv_limit": dv_stats.limit,
            "peak_rss_mib": peak_rss_mib,
        }
    )


def measure(run: Run, records: int, latency: str, page_size: int) -> dict[str, Any]:
    """One run: a fresh sandbox process, a fresh bot process."""
    context = multiprocessing.get_context("spawn")
    sandbox_end, sandbox_pipe = context.Pipe()
    sandbox = context.Process(target=serve_sandbox, args=(records, latency, sandbox_pipe), daemon=True)
    sandbox.start()
    urls = sandbox_end.recv()
    bot_end, bot_pipe = context.Pipe()
    bot = context.Process(target=run_sync, args=(urls, run, page_size, bot_pipe))
    bot.start()
    figures: dict[str, Any] = bot_end.recv()
    bot.join()
    sandbox_end.send("stop")
    snapshot = sandbox_end.recv()
    sandbox.join()
    peaks = snapshot.get("peak_concurrent_requests") or {}
    return {
        **figures,
        "customers": urls["customers"],
        "dv_peak": peaks.get("dataverse", 0),
        "bc_peak": peaks.get("bc", 0),
        "accounts": snapshot["accounts"],
        "duplicates": snapshot["duplicates"],
    }


def table(runs: list[Run], results: list[dict[str, Any]]) -> None:
    """Print the figures of each run side by side."""
    width = 22
    print()
    print(f"{'':40}" + "".join(f"{run.label:>{width}}" for run in runs))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:40}" + "".join(f"{value:>{width}}" for value in values))

    bounds = [f"{r.dataverse_concurrency} / {r.bc_concurrency}" for r in runs]
    row("batches in flight at most (DV / BC)", bounds)
    row("operations per Dataverse $batch", [str(r.batch_size) for r in runs])
    row("customers", [str(f["customers"]) for f in results])
    row("inserted / failed", [f"{f['inserted']} / {f['failed']}" for f in results])
    row("full sync seconds", [f"{f['seconds']:.1f}" for f in results])
    row("records/s", [f"{f['customers'] / f['seconds']:.0f}" for f in results])
    row("peak concurrent requests DV (limit 52)", [str(f["dv_peak"]) for f in results])
    row("peak concurrent requests BC (limit 5)", [str(f["bc_peak"]) for f in results])
    row("DV requests in busiest 5 min (6,000)", [str(f["dv_requests_5min"]) for f in results])
    row("DV execution s in busiest 5 min (1,200)", [f"{f['dv_execution_5min']:.0f}" for f in results])
    row("BC requests in busiest 5 min (6,000)", [str(f["bc_requests_5min"]) for f in results])
    row("429 answers", [str(f["throttled"]) for f in results])
    row("worker-seconds waited for the budget", [f"{f['budget_wait']:.0f}" for f in results])
    row("DV limit cuts / limit at the end", [f"{f['dv_cuts']} / {f['dv_limit']}" for f in results])
    row("Dataverse accounts / duplicates", [f"{f['accounts']} / {f['duplicates']}" for f in results])
    row("peak memory of the bot (MiB)", [f"{f['peak_rss_mib']:.0f}" for f in results])
    if len(results) == 2:
        print(f"\nspeed-up: {results[1]['seconds'] / results[0]['seconds']:.1f}x")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--latency", default="realistic", help="none, realistic or ms per operation")
    parser.add_argument("--only", choices=("both", "concurrent", "baseline"), default="both")
    parser.add_argument("--concurrency", type=int, default=16, help="DV batches in flight")
    parser.add_argument("--bc-concurrency", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--baseline-batch-size", type=int, default=1000, help="what the bot sent before")
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()

    runs: list[Run] = []
    if args.only in ("both", "concurrent"):
        runs.append(Run("in flight at once", args.concurrency, args.bc_concurrency, args.batch_size))
    if args.only in ("both", "baseline"):
        runs.append(Run("one at a time", 1, 1, args.baseline_batch_size))
    results = []
    for run in runs:
        print(f"{run.label}: {args.records} customers, latency {args.latency} ...", flush=True)
        results.append(measure(run, args.records, args.latency, args.page_size))
    table(runs, results)


if __name__ == "__main__":
    main()
