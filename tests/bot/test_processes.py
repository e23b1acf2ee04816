"""`serve --http` and `clock` as real processes: signed Slack requests, health, metrics, scheduled syncs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from storage.models import SyncJob
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_payloads import signed_headers, slash_command_body

SECRET = "test-signing-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A small sandbox for one test."""
    server = SandboxServer(port=0, records=20, seed=5).start()
    yield server
    server.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The loopback Slack stand-in."""
    fake = FakeSlack()
    yield fake
    fake.stop()


def _environment(database_url: str, sandbox: SandboxServer, slack: FakeSlack) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    return {
        **keep,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url.rstrip("/"),
        "SLACK_CHANNEL": "C0TEST",
        "BC_API_URL": sandbox.bc_api_url,
        "DATAVERSE_URL": sandbox.dataverse_url,
        "AUTH_TOKEN_URL": sandbox.token_url,
        "AZURE_CLIENT_ID": SANDBOX_CLIENT_ID,
        "AZURE_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "LOG_FORMAT": "json",
    }


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def _wait_until(predicate: object, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.mark.slow
def test_serve_http_answers_signed_commands_health_and_metrics(
    database_url: str, sandbox: SandboxServer, slack: FakeSlack, tmp_path: Path
) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--http", "--port", str(port), "--no-scheduler"],
        env=_environment(database_url, sandbox, slack),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_until(healthy, timeout=30)
        body = slash_command_body("help", response_url=slack.response_url("r1"))
        answer = httpx.post(f"{base}/slack/events", content=body, headers=signed_headers(body, SECRET))
        assert answer.status_code == 200
        forged = httpx.post(f"{base}/slack/events", content=body, headers=signed_headers(body, "wrong"))
        assert forged.status_code == 401
        stale = signed_headers(body, SECRET, timestamp=int(time.time()) - 600)
        assert httpx.post(f"{base}/slack/events", content=body, headers=stale).status_code == 401
        metrics = httpx.get(f"{base}/metrics").text
        assert "sync_errors_slack_request_seconds" in metrics and "sync_errors_notifications" in metrics
        assert httpx.get(f"{base}/nothing-here").status_code == 404
    finally:
        code = _stop(process)
    assert code == 0, process.stdout.read() if process.stdout else ""


@pytest.mark.slow
def test_clock_runs_the_syncs_on_its_own_and_stops_cleanly(
    database_url: str, engine: Engine, sandbox: SandboxServer, slack: FakeSlack, tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "clock"],
        env=_environment(database_url, sandbox, slack),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def synced() -> bool:
            with Session(engine) as session:
                return int(session.exec(select(func.count()).select_from(SyncJob)).one()) >= 5

        _wait_until(synced, timeout=60)
    finally:
        code = _stop(process)
    output = process.stdout.read() if process.stdout else ""
    assert code == 0, output
    assert "Traceback" not in output
