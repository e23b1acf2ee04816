"""`serve --http` forks its workers from a master that never opens the store, so every worker can write.

A gunicorn worker forked while the master's scheduler held SQLite's writer lock could never write again: every
click it took was answered 500 "database is locked", for as long as it lived. The scheduler now runs in a
process of its own, and gunicorn's replacement for a killed worker writes like the first ones.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.sandbox import SandboxServer
from storage.models import WorkItem
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_payloads import block_actions_body, signed_headers
from tests.faults.conftest import SECRET, USER, Serve, environment, wait_until
from tests.faults.test_clicks_survive_kills import permission_errors

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue  # the thread ended meanwhile
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""  # the process ended meanwhile


def _open_files(pid: int) -> set[str]:
    files = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            files.add(os.readlink(fd))
        except OSError:
            continue  # closed meanwhile
    return files


def _web_workers(serve: Serve) -> list[int]:
    assert serve.process is not None
    return [pid for pid in _children(serve.process.pid) if "bot.processes" not in _cmdline(pid)]


def _resync(serve: Serve, slack: FakeSlack, error_id: int) -> int:
    """A click that writes before its ack (the work row and its audit entry); the HTTP status."""
    body = block_actions_body(
        "resync", str(error_id), user_id=USER, response_url=slack.response_url(f"c{error_id}")
    )
    response = httpx.post(
        f"{serve.base}/slack/events", content=body.encode(), headers=signed_headers(body, SECRET), timeout=10
    )
    return response.status_code


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_the_master_holds_no_store_and_a_replacement_worker_writes(
    database_url: str,
    engine: Engine,
    sandbox: SandboxServer,
    slack: FakeSlack,
    serve_factory: Callable[..., Serve],
) -> None:
    error_ids = permission_errors(database_url, engine, sandbox)
    serve = serve_factory(environment(database_url, sandbox, slack)).start()
    assert serve.process is not None
    master = serve.process.pid
    if database_url.startswith("sqlite"):
        store = database_url.removeprefix("sqlite:///")
        assert not {f for f in _open_files(master) if f.startswith(store)}, _open_files(master)
    scheduler = [pid for pid in _children(master) if "bot.processes" in _cmdline(pid)]
    assert len(scheduler) == 1, [_cmdline(pid) for pid in _children(master)]

    first = _web_workers(serve)
    for worker in first:  # gunicorn forks a replacement for each, beside the running scheduler
        os.kill(worker, signal.SIGKILL)
    wait_until(lambda: len(set(_web_workers(serve)) - set(first)) == 2)
    time.sleep(1.0)  # the replacements load the app

    statuses = {error_id: _resync(serve, slack, error_id) for error_id in error_ids}
    assert set(statuses.values()) == {200}, (statuses, serve.log_text()[-3000:])
    with Session(engine) as session:
        queued = {str((item.payload or {}).get("target")) for item in session.exec(select(WorkItem)).all()}
    assert {f"error:{error_id}" for error_id in error_ids} <= queued
    assert "database is locked" not in serve.log_text()
    assert "Traceback" not in serve.log_text()


def _scheduler_processes(serve: Serve) -> list[int]:
    assert serve.process is not None
    return [pid for pid in _children(serve.process.pid) if "bot.processes" in _cmdline(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_a_killed_scheduler_process_is_started_again_and_a_killed_master_takes_it_along(
    database_url: str,
    sandbox: SandboxServer,
    slack: FakeSlack,
    serve_factory: Callable[..., Serve],
) -> None:
    serve = serve_factory(environment(database_url, sandbox, slack)).start()
    assert serve.process is not None
    [first] = _scheduler_processes(serve)
    os.kill(first, signal.SIGKILL)  # gunicorn's master reaps it: the status pipe tells that it died
    wait_until(lambda: [pid for pid in _scheduler_processes(serve) if pid != first] != [])
    [second] = [pid for pid in _scheduler_processes(serve) if pid != first]
    assert "the scheduler process died; starting it again" in serve.log_text()

    os.kill(serve.process.pid, signal.SIGKILL)  # the master alone: its lifeline closes
    wait_until(lambda: not _alive(second))
    assert "Traceback" not in serve.log_text()
