"""Bad input through the command line: the documented exit code, one `Error:` line, never a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from bot.cli import app
from storage.models import Category
from tests.factories import make_error

BAD_INPUTS: list[tuple[dict[str, str], list[str], int, str]] = [
    ({"DATABASE_URL": "nonsense://x"}, ["list"], 2, "sqlite:///PATH or postgresql://"),
    ({"DATABASE_URL": "mysql://u@h/db"}, ["list"], 2, "'mysql' is not supported"),
    ({"DATABASE_URL": "sync_errors.db"}, ["status"], 2, "must be a URL"),
    ({"DIGEST_MAX_SECONDS": "10"}, ["list"], 2, "at least DIGEST_MIN_SECONDS"),
    ({"DIGEST_MIN_SECONDS": "-1"}, ["list"], 2, "DIGEST_MIN_SECONDS"),
    ({"RETENTION_DAYS": "0"}, ["list"], 2, "RETENTION_DAYS"),
    ({"AZURE_TENANT_ID": "<tenant-id>"}, ["doctor"], 2, "placeholder <tenant-id>"),
    ({"DATAVERSE_URL": "https://<org>.crm4.dynamics.com"}, ["list"], 2, "DATAVERSE_URL"),
    ({"AZURE_CLIENT_SECRET": "<secret>"}, ["list"], 2, "AZURE_CLIENT_SECRET: still holds a placeholder"),
    ({}, ["list", "--mapping", "NOPE"], 2, "known mappings: SALESPEOPLE"),
    ({}, ["list", "--category", "nope"], 2, "known categories: permissions"),
    ({}, ["list", "--status", "closed"], 2, "open, resolved, snoozed or all"),
    ({}, ["resync", "--failed", "--mapping", "NOPE"], 2, "known mappings"),
    ({}, ["couple", "--match", "NOPE"], 2, "known mappings"),
    ({}, ["sync", "NOPE"], 2, "known mappings"),
    ({}, ["show", "99999"], 2, "no error entry #99999"),
    ({}, ["snooze", "99999", "4h"], 2, "no error entry #99999"),
    ({}, ["resync", "99999"], 2, "no error entry #99999"),
    ({}, ["restore", "99999", "--yes"], 2, "no error entry #99999"),
    ({}, ["delete-record", "99999", "--yes"], 2, "no error entry #99999"),
    ({}, ["keep", "99999", "bc", "--yes"], 2, "no error entry #99999"),
    ({}, ["couple-dependency", "99999"], 2, "no error entry #99999"),
    ({}, ["snooze", "{id}", "soon"], 2, "30m, 12h, 7d or 2w"),
    ({}, ["purge"], 2, "--older-than DURATION or --all"),
    ({}, ["purge", "--older-than", "7x"], 2, "30m, 12h, 7d or 2w"),
    ({}, ["uncouple", "not-a-ref"], 2, "customer:10000"),
    ({}, ["couple", "banana", "account:1", "--sync", "bc"], 2, "customer:10000"),
    ({}, ["schedule", "CUSTOMER", "every", "10s"], 2, "Usage:"),
    ({}, ["pause", "NOPE"], 2, "known jobs: cleanup"),
    ({}, ["run", "NOPE"], 2, "known mappings"),
    ({}, ["help", "nope"], 2, ""),
    ({}, ["sandbox", "--fault", "nope"], 2, "known: missing-privilege"),
    ({}, ["serve"], 2, "SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["serve"], 2, "SLACK_APP_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["serve", "--http"], 2, "SLACK_SIGNING_SECRET"),
    ({}, ["resync", "{id}"], 1, "not configured: set BC_API_URL"),
    ({}, ["show", "abc"], 2, "valid integer"),
    ({}, ["list", "--limit", "0"], 2, "greater than or equal to 1"),
    ({}, ["list", "--bogus"], 2, "No such option: --bogus"),
    ({}, ["nope"], 2, "No such command 'nope'"),
]


@pytest.mark.parametrize(
    ("env", "words", "code", "says"), BAD_INPUTS, ids=lambda value: str(value)[:40] if value else "-"
)
def test_bad_input_exits_with_the_documented_code_and_one_line(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    env: dict[str, str],
    words: list[str],
    code: int,
    says: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    from storage.db import make_engine

    engine = make_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        error = make_error(session, category=Category.PERMISSIONS)
        session.commit()
    engine.dispose()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, [word.replace("{id}", str(error.id)) for word in words])
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if words[0] == "help":
        assert "I don't know" in result.output and "sync-errors list" in result.output
        return
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0].startswith("Error: ") and says.lower() in result.output.lower(), result.output
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("Usage: sync-errors")), lines


def test_serve_refused_for_a_missing_token_creates_no_database(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "SLACK_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_serve_with_slack_unreachable_says_so_in_one_line(tmp_path: Path) -> None:
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_URL"))},
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": "http://127.0.0.1:9/",  # nothing listens on the discard port
        "LOG_LEVEL": "ERROR",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--no-scheduler"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert re.search(r"^Error: cannot reach Slack at http://127\.0\.0\.1:9", result.stderr, re.MULTILINE)


@pytest.mark.parametrize(
    "words", [["--help"], ["schedule", "--help"], ["list", "--help"], ["serve", "--help"]]
)
def test_help_shows_no_python_types(words: list[str]) -> None:
    result = CliRunner().invoke(app, words)
    assert result.exit_code == 0
    for noise in ("<bool>", "<list[str]>", "[[", "]]..."):
        assert noise not in result.output, noise


def test_help_subcommand_has_the_slash_commands_words() -> None:
    from bot.blocks import build_help
    from bot.blocks.terminal import render_for_terminal

    result = CliRunner().invoke(app, ["help", "list"])
    assert result.exit_code == 0
    slack = render_for_terminal(build_help(topic="list")).replace("/sync-errors", "sync-errors")
    assert result.output.split() == slack.split()  # the same words, wrapped at the terminal's width
