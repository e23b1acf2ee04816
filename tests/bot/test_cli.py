"""The terminal commands of the error log, run as a person would type them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from storage.errors import count_errors
from storage.models import AuditEntry, Category, ErrorStatus, SyncError
from storage.types import utcnow
from tests.factories import make_error

CONTRACT_KEYS = {
    "id", "created_at", "last_seen_at", "occurrences", "status", "mapping", "direction", "job_id",
    "category", "code", "message", "detail", "hint", "source", "destination",
}  # fmt: skip
SIDE_KEYS = {"system", "table", "id", "key", "name", "url"}


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, database_url: str) -> CliRunner:
    """A runner whose commands use the test store."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


def test_list_json_has_the_contract_shape_newest_first(run: CliRunner, engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        older = make_error(session, created_at=utcnow() - timedelta(hours=2))
        newer = make_error(session, category=Category.DELETED_RECORD)
        session.commit()
    result = run.invoke(app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [item["id"] for item in data] == [newer.id, older.id]
    assert set(data[0]) == CONTRACT_KEYS
    assert set(data[0]["source"]) == SIDE_KEYS and set(data[0]["destination"]) == SIDE_KEYS
    assert data[0]["category"] == "deleted-record"
    assert data[0]["created_at"].endswith("Z")
    assert data[0]["destination"]["url"] is None


def test_list_filters_and_limit(run: CliRunner, engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        make_error(session, mapping="CONTACT")
        make_error(session, status=ErrorStatus.RESOLVED)
        make_error(session)
        session.commit()
    assert len(json.loads(run.invoke(app, ["list", "--json"]).stdout)) == 2
    assert len(json.loads(run.invoke(app, ["list", "--status", "all", "--json"]).stdout)) == 3
    assert len(json.loads(run.invoke(app, ["list", "--mapping", "contact", "--json"]).stdout)) == 1
    assert len(json.loads(run.invoke(app, ["list", "--limit", "1", "--json"]).stdout)) == 1
    bad = run.invoke(app, ["list", "--status", "closed"])
    assert bad.exit_code == 2 and "open, resolved, snoozed or all" in bad.output


def test_show_prints_one_error_and_refuses_unknown_ids(run: CliRunner, engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        error = make_error(session)
        session.commit()
    result = run.invoke(app, ["show", str(error.id), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["id"] == error.id
    human = run.invoke(app, ["show", str(error.id)])
    assert "prvCreateAccount" in human.stdout and "What to do" in human.stdout
    missing = run.invoke(app, ["show", "999999"])
    assert missing.exit_code == 2 and "no error entry #999999" in missing.output
    assert "Traceback" not in missing.output


def test_purge_older_than_keeps_the_recent_entries(run: CliRunner, engine: Engine) -> None:
    with time_machine.travel(utcnow() - timedelta(days=8)):
        with Session(engine, expire_on_commit=False) as session:
            make_error(session)
            make_error(session)
            session.commit()
    with time_machine.travel(utcnow() - timedelta(days=6)):
        with Session(engine, expire_on_commit=False) as session:
            make_error(session)
            session.commit()
    result = run.invoke(app, ["purge", "--older-than", "7d", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 error entries." in result.stdout
    with Session(engine, expire_on_commit=False) as session:
        assert count_errors(session) == 1
        audit = session.exec(select(AuditEntry)).one()
    assert audit.action == "purge_older_than" and audit.door == "terminal" and "deleted 2" in audit.detail


def test_purge_goes_by_last_seen(run: CliRunner, engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        make_error(session, created_at=utcnow() - timedelta(days=30))
        seen_again = make_error(session, created_at=utcnow() - timedelta(days=30))
        seen_again.last_seen_at = utcnow() - timedelta(hours=1)  # first seen long ago, seen again today
        session.add(seen_again)
        session.commit()
        kept = seen_again.id
    result = run.invoke(app, ["purge", "--older-than", "7d", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 error entry." in result.stdout
    with Session(engine, expire_on_commit=False) as session:
        assert [e.id for e in session.exec(select(SyncError)).all()] == [kept]


def test_purge_all_empties_the_log(run: CliRunner, engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        for _ in range(3):
            make_error(session)
        session.commit()
    assert run.invoke(app, ["purge", "--all", "--yes"]).exit_code == 0
    with Session(engine, expire_on_commit=False) as session:
        assert count_errors(session) == 0


@pytest.mark.parametrize(
    "words",
    [
        ["purge", "--older-than", "banana"],
        ["purge", "--older-than", "-3d"],
        ["purge", "--older-than", "0"],
        ["purge", "--older-than", "0d"],
        ["purge"],
        ["purge", "--all", "--older-than", "7d"],
    ],
)
def test_bad_purge_arguments_exit_2_change_nothing_and_show_usage(
    run: CliRunner, engine: Engine, words: list[str]
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        make_error(session, created_at=utcnow() - timedelta(days=30))
        session.commit()
    result = run.invoke(app, [*words, "--yes"])
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.output and "Traceback" not in result.output
    with Session(engine, expire_on_commit=False) as session:
        assert count_errors(session) == 1


def test_an_unmigrated_database_is_refused_with_the_command_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 1
    assert "sync-errors db upgrade" in result.output


def test_db_upgrade_then_list_works_on_a_new_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    runner = CliRunner()
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0 and "migration" in upgraded.stdout
    again = runner.invoke(app, ["db", "upgrade"])
    assert "up to date" in again.stdout
    assert runner.invoke(app, ["list"]).exit_code == 0


def test_the_default_sqlite_file_is_created_on_first_use() -> None:
    result = CliRunner().invoke(app, ["list", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_a_malformed_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_DAYS", "soon")
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 2
    assert "RETENTION_DAYS" in result.output and "Traceback" not in result.output
