"""SQLite as a single-node store: clicks while a terminal `sync --full` runs beside `serve` are never lost."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.sandbox import SandboxServer
from storage.models import ErrorStatus, SyncError, WorkItem
from tests.fakes.slack_api import FakeSlack
from tests.faults.conftest import Serve, environment
from tests.faults.test_clicks_survive_kills import _click, permission_errors

pytestmark = pytest.mark.slow


@pytest.fixture
def big_sandbox() -> Iterator[SandboxServer]:
    """A sandbox large enough that the terminal's full sync runs for a while."""
    server = SandboxServer(port=0, records=400, seed=7).start()
    yield server
    server.stop()


def test_clicks_during_a_terminal_full_sync_are_all_queued_without_a_traceback(
    database_url: str,
    engine: Engine,
    big_sandbox: SandboxServer,
    slack: FakeSlack,
    serve_factory: Callable[..., Serve],
    tmp_path: Path,
) -> None:
    sandbox = big_sandbox
    error_ids = permission_errors(database_url, engine, sandbox)[:40]
    env = environment(database_url, sandbox, slack)
    serve = serve_factory(env, scheduler=False).start()
    terminal_log = tmp_path / "terminal.log"
    terminal = subprocess.Popen(
        [sys.executable, "-m", "bot", "sync", "--full"],
        env=env,
        cwd=tmp_path,
        stdout=terminal_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(1.0)  # the sync is under way
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda error_id: _click(serve.base, slack, error_id), error_ids))
        still_syncing = terminal.poll() is None
        assert terminal.wait(300) == 0, terminal_log.read_text()
    finally:
        if terminal.poll() is None:
            terminal.kill()
    assert still_syncing  # the clicks came while the terminal's sync was writing
    assert statuses == [200] * len(error_ids)
    with Session(engine) as session:
        targets = {str((item.payload or {}).get("target")) for item in session.exec(select(WorkItem)).all()}
        not_queued = [error_id for error_id in error_ids if f"error:{error_id}" not in targets]
        # The terminal's sync may fix a record before its click arrives: that click is answered
        # "already resolved" instead of queued. Any other click missing from the queue is a lost click.
        for error_id in not_queued:
            error = session.get(SyncError, error_id)
            assert error is not None and error.status == ErrorStatus.RESOLVED, error_id
    assert len(not_queued) < len(error_ids)  # most clicks came before the sync reached their records
    answered = {call.path.rsplit("/", 1)[-1] for call in slack.calls("response_url")}
    assert {f"click{error_id}" for error_id in not_queued} <= answered
    serve.stop()
    logs = serve.log_text() + terminal_log.read_text(errors="replace")
    assert "Traceback" not in logs
    assert "database is locked" not in logs
