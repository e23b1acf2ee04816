"""Destructive terminal commands ask at a terminal and, without one or on "n", change nothing (exit 2)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from storage.models import AuditEntry, Category, Coupling, SyncError
from tests.factories import make_error

EXIT_REFUSED = 2


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """One sandbox for the module."""
    server = SandboxServer(port=0, records=20, seed=5).start()
    yield server
    server.stop()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, sandbox: SandboxServer) -> dict[str, str]:
    """The environment of a second process: the test store and the sandbox."""
    sandbox.clear_faults()
    values = {
        "DATABASE_URL": database_url,
        "BC_API_URL": sandbox.bc_api_url,
        "BC_WEB_URL": sandbox.bc_web_url,
        "DATAVERSE_URL": sandbox.dataverse_url,
        "AUTH_TOKEN_URL": sandbox.token_url,
        "AZURE_CLIENT_ID": SANDBOX_CLIENT_ID,
        "AZURE_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, "COLUMNS": "100"}


def _run(args: list[str], env: dict[str, str], *, stdin: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` with stdin closed ("closed"), /dev/null ("null") or "n" piped ("n")."""
    command = [sys.executable, "-m", "bot", *args]
    if stdin == "closed":
        # `<&-`: the process starts with no file descriptor 0 at all.
        command = ["/bin/sh", "-c", 'exec "$@" <&-', "sh", *command]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    source: Any = subprocess.DEVNULL if stdin == "null" else None
    text_in = "n\n" if stdin == "n" else None
    return subprocess.run(
        command, env=env, input=text_in, stdin=source, capture_output=True, text=True, timeout=60
    )


def _at_a_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    """Run with a pseudo-terminal as stdin, answer the prompt, return the exit code and what it printed."""
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            env=env,
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        os.write(master, f"{answer}\n".encode())
        output, _ = process.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    return process.returncode, output


def _snapshot(engine: Engine, sandbox: SandboxServer) -> tuple[object, ...]:
    with Session(engine) as session:
        errors = session.exec(select(func.count()).select_from(SyncError)).one()
        couplings = session.exec(select(func.count()).select_from(Coupling)).one()
        audit = session.exec(select(func.count()).select_from(AuditEntry)).one()
    return errors, couplings, audit, json.dumps(sandbox.state.counts(), sort_keys=True)


def _deleted_record_error(sandbox: SandboxServer) -> int:
    """A coupled customer deleted in Business Central: its account survives in Dataverse."""
    runner = CliRunner()
    assert runner.invoke(app, ["sync", "--full"]).exit_code == 0
    customer = sandbox.state.bc_create("customers", {"displayName": "Gone Tomorrow", "type": "Company"})
    assert runner.invoke(app, ["sync", "CUSTOMER", "--full"]).exit_code == 0  # creates its account
    sandbox.state.bc_delete("customers", str(customer["id"]))
    assert runner.invoke(app, ["sync", "--find-deleted", "CUSTOMER"]).exit_code == 1
    found = json.loads(runner.invoke(app, ["list", "--category", "deleted-record", "--json"]).stdout)
    return int(found[0]["id"])


def _refused_in_one_line(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == EXIT_REFUSED, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: nothing changed"), lines
    assert "--yes" in lines[0] or "did not confirm" in lines[0]


@pytest.mark.parametrize("stdin", ["closed", "null", "n"])
def test_delete_record_without_a_terminal_deletes_nothing(
    env: dict[str, str], engine: Engine, sandbox: SandboxServer, stdin: str
) -> None:
    error_id = _deleted_record_error(sandbox)
    before = _snapshot(engine, sandbox)
    _refused_in_one_line(_run(["delete-record", str(error_id)], env, stdin=stdin))
    assert _snapshot(engine, sandbox) == before
    # The same command with --yes does delete: the refusal above was the only thing in the way.
    done = CliRunner().invoke(app, ["delete-record", str(error_id), "--yes"])
    assert done.exit_code == 0, done.output
    assert _snapshot(engine, sandbox) != before


def test_delete_record_at_a_terminal_asks_and_no_keeps_everything(
    env: dict[str, str], engine: Engine, sandbox: SandboxServer
) -> None:
    error_id = _deleted_record_error(sandbox)
    before = _snapshot(engine, sandbox)
    code, output = _at_a_terminal(["delete-record", str(error_id)], env, "n")
    assert code == EXIT_REFUSED, output
    assert "Delete the surviving record" in output and "did not confirm" in output
    assert _snapshot(engine, sandbox) == before
    code, output = _at_a_terminal(["delete-record", str(error_id)], env, "y")
    assert code == 0, output
    assert _snapshot(engine, sandbox) != before


@pytest.mark.parametrize(
    "words",
    [
        ["purge", "--all"],
        ["purge", "--older-than", "1m"],
        ["restore", "{id}"],
        ["uncouple", "customer:10000"],
        ["couple", "customer:10000", "account:6f1c0c7e-0000-0000-0000-000000000001", "--sync", "bc"],
        ["keep", "{id}", "bc"],
    ],
    ids=lambda words: " ".join(words[:2]),
)
@pytest.mark.parametrize("stdin", ["closed", "n"])
def test_destructive_commands_refuse_without_a_terminal(
    env: dict[str, str], engine: Engine, sandbox: SandboxServer, words: list[str], stdin: str
) -> None:
    from datetime import timedelta

    from storage.types import utcnow

    # keep applies only to an update conflict (anything else is refused before the question)
    category = Category.UPDATE_CONFLICT if words[0] == "keep" else Category.PERMISSIONS
    with Session(engine, expire_on_commit=False) as session:
        error = make_error(session, created_at=utcnow() - timedelta(hours=1), category=category)
        session.commit()
    before = _snapshot(engine, sandbox)
    args = [word.replace("{id}", str(error.id)) for word in words]
    _refused_in_one_line(_run(args, env, stdin=stdin))
    assert _snapshot(engine, sandbox) == before


def test_purge_at_a_terminal_deletes_on_yes(env: dict[str, str], engine: Engine) -> None:
    with Session(engine) as session:
        make_error(session)
        session.commit()
    code, output = _at_a_terminal(["purge", "--all"], env, "y")
    assert code == 0, output
    assert "Delete 1 error entry? This cannot be undone." in output and "Deleted 1 error entry." in output
