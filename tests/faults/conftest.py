"""Real processes for the fault suite: `serve --http` under gunicorn, SIGKILLed, on the test store."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from tests.fakes.slack_api import FakeSlack

SECRET = "test-signing-secret"
ADMIN = "U02ADMIN"
USER = "U01ALICE"
WAIT = 60.0  # bound on waiting for another process; never asserted on as a speed


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, timeout: float = WAIT, every: float = 0.1) -> None:
    """Wait (bounded) for something another process does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError("gave up waiting")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A small sandbox of the business apps."""
    server = SandboxServer(port=0, records=20, seed=5).start()
    yield server
    server.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The loopback Slack stand-in."""
    fake = FakeSlack()
    yield fake
    fake.stop()


def environment(database_url: str, sandbox: SandboxServer, slack: FakeSlack, **extra: str) -> dict[str, str]:
    """The environment of a bot process pointed at the test store, the sandbox and the stand-in."""
    keep = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    return {
        **keep,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url.rstrip("/"),
        "SLACK_CHANNEL": "C0TEST",
        "SYNC_ADMINS": ADMIN,
        "BC_API_URL": sandbox.bc_api_url,
        "DATAVERSE_URL": sandbox.dataverse_url,
        "AUTH_TOKEN_URL": sandbox.token_url,
        "AZURE_CLIENT_ID": SANDBOX_CLIENT_ID,
        "AZURE_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "LOG_FORMAT": "console",
        **extra,
    }


@dataclass
class Serve:
    """`sync-errors serve --http` as a process group of its own (gunicorn's master and workers)."""

    env: dict[str, str]
    cwd: Path
    scheduler: bool = True
    port: int = field(default_factory=free_port)
    logs: list[Path] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """The server's URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Serve:
        """Start and wait until /healthz answers."""
        log = self.cwd / f"serve-{len(self.logs)}.log"
        self.logs.append(log)
        command = [sys.executable, "-m", "bot", "serve", "--http", "--port", str(self.port)]
        if not self.scheduler:
            command.append("--no-scheduler")
        self.process = subprocess.Popen(
            command,
            env=self.env,
            cwd=self.cwd,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self.healthy)
        return self

    def healthy(self) -> bool:
        """True when GET /healthz answers 200."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited {self.process.returncode}: {self.log_text()}")
        try:
            return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL the whole process group (master and workers at once)."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(WAIT)

    def stop(self) -> int:
        """SIGTERM and wait; the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.kill()
        return int(self.process.returncode)

    def log_text(self) -> str:
        """Everything every run of this server logged."""
        return "\n".join(log.read_text(errors="replace") for log in self.logs if log.exists())


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    """Make Serve processes that are killed at the end of the test whatever happens."""
    made: list[Serve] = []

    def make(env: dict[str, str], *, scheduler: bool = True) -> Serve:
        made.append(Serve(env=env, cwd=tmp_path, scheduler=scheduler))
        return made[-1]

    yield make
    for serve in made:
        if serve.process is not None and serve.process.poll() is None:
            serve.kill()
