"""One run per mapping, as real processes: two syncs started together, and runs SIGKILLed in a row.

Each `sync-errors sync CUSTOMER` is its own process on the test store (SQLite or PostgreSQL), against the
sandbox with a latency per operation so that runs overlap; records are counted in both apps afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.sandbox import SandboxServer
from storage.db import session_scope
from storage.mappings import set_sync_only_coupled
from storage.models import SyncJob
from tests.fakes.slack_api import FakeSlack
from tests.faults.conftest import environment, wait_until

pytestmark = pytest.mark.slow
NEW = int(os.environ.get("FAULT_NEW_RECORDS", "60"))  # new customers to create (the issue measured 262)


def _sync(env: dict[str, str], cwd: Path, *names: str) -> subprocess.Popen[str]:
    """`sync-errors sync NAMES` as a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "sync", *names],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _prepared(
    database_url: str, engine: Engine, sandbox: SandboxServer, slack: FakeSlack, tmp_path: Path
) -> dict[str, str]:
    """A store after its initial full sync, CUSTOMER creating new records, NEW customers to create."""
    env = environment(database_url, sandbox, slack)
    first = subprocess.run(
        [sys.executable, "-m", "bot", "sync"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    with session_scope(engine) as session:
        set_sync_only_coupled(session, name="CUSTOMER", only_coupled=False)
    for n in range(NEW):
        sandbox.state.bc_create("customers", {"displayName": f"Parallel {n:03d}", "type": "Company"})
    sandbox.set_latency(15)  # ms per operation: a page of creates takes long enough for runs to meet
    return env


def _accounts_per_name(sandbox: SandboxServer) -> Counter[str]:
    return Counter(str(r.get("name")) for r in sandbox.state.dv_rows("accounts"))


def _job_count(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(SyncJob.id)).all())


def _unfinished(engine: Engine) -> list[SyncJob]:
    with Session(engine) as session:
        return list(session.exec(select(SyncJob).where(col(SyncJob.finished_at).is_(None))).all())


def test_two_syncs_of_one_mapping_at_once_leave_no_duplicates(
    database_url: str, engine: Engine, sandbox: SandboxServer, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _prepared(database_url, engine, sandbox, slack, tmp_path)
    first, second = _sync(env, tmp_path, "CUSTOMER"), _sync(env, tmp_path, "CUSTOMER")
    outputs = [process.communicate(timeout=300)[0] for process in (first, second)]
    accounts = _accounts_per_name(sandbox)
    assert [accounts[f"Parallel {n:03d}"] for n in range(NEW)] == [1] * NEW
    assert all("Traceback" not in out for out in outputs), outputs
    busy = [out for out in outputs if "already syncing" in out]
    assert len(busy) <= 1 and (not busy or "started" in busy[0])
    assert _unfinished(engine) == []


def test_interrupted_runs_in_a_row_leave_no_duplicates(
    database_url: str, engine: Engine, sandbox: SandboxServer, slack: FakeSlack, tmp_path: Path
) -> None:
    env = _prepared(database_url, engine, sandbox, slack, tmp_path)
    created_before = sum(1 for name in _accounts_per_name(sandbox) if name.startswith("Parallel"))
    assert created_before == 0
    killed = _sync(env, tmp_path, "CUSTOMER")  # killed once some accounts exist
    wait_until(
        lambda: sum(1 for n in _accounts_per_name(sandbox) if n.startswith("Parallel")) >= 4, every=0.02
    )
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    jobs_before = _job_count(engine)
    again = _sync(env, tmp_path, "CUSTOMER")  # killed as soon as its job row exists
    wait_until(lambda: _job_count(engine) > jobs_before, every=0.02)
    os.killpg(again.pid, signal.SIGKILL)
    again.wait(timeout=30)
    last = _sync(env, tmp_path, "CUSTOMER")
    out = last.communicate(timeout=300)[0]
    assert last.returncode == 0, out
    accounts = _accounts_per_name(sandbox)
    assert [accounts[f"Parallel {n:03d}"] for n in range(NEW)] == [1] * NEW
    assert _unfinished(engine) == []  # the killed runs' jobs are closed as interrupted
    with Session(engine) as session:
        closed = session.exec(select(SyncJob).where(col(SyncJob.message).startswith("Interrupted"))).all()
    assert closed
