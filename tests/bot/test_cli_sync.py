"""The terminal's synchronization commands against the sandbox over HTTP, as an operator types them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer

JOB_KEYS = {
    "id", "mapping", "type", "direction", "started_at", "finished_at", "inserted", "modified", "deleted",
    "unchanged", "skipped", "failed", "coupled", "uncoupled", "message", "trigger",
}  # fmt: skip


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """One sandbox for the module."""
    server = SandboxServer(port=0, records=30, seed=11).start()
    yield server
    server.stop()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, database_url: str, sandbox: SandboxServer) -> CliRunner:
    """A runner whose commands use the test store and the sandbox."""
    sandbox.clear_faults()
    for name, value in {
        "DATABASE_URL": database_url,
        "BC_API_URL": sandbox.bc_api_url,
        "BC_WEB_URL": sandbox.bc_web_url,
        "DATAVERSE_URL": sandbox.dataverse_url,
        "AUTH_TOKEN_URL": sandbox.token_url,
        "AZURE_CLIENT_ID": SANDBOX_CLIENT_ID,
        "AZURE_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    return CliRunner()


def _json(runner: CliRunner, *words: str) -> object:
    result = runner.invoke(app, [*words, "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_full_sync_then_status_shows_the_job_log(run: CliRunner) -> None:
    result = run.invoke(app, ["sync", "--full"])
    assert result.exit_code == 0, result.output
    assert "CUSTOMER" in result.stdout and "BC → DV" in result.stdout
    jobs = _json(run, "status")
    assert isinstance(jobs, list) and jobs
    assert all(set(job) == JOB_KEYS for job in jobs)
    assert {job["trigger"] for job in jobs} == {"cli"}
    assert sum(job["inserted"] for job in jobs) > 0


def test_a_missing_privilege_fails_the_sync_and_resync_resolves_it_once_fixed(
    run: CliRunner, sandbox: SandboxServer
) -> None:
    assert run.invoke(app, ["sync", "--full"]).exit_code == 0
    sandbox.set_fault("missing-privilege", entity="account", privilege="prvCreateAccount")
    sandbox.state.bc_create("customers", {"displayName": "Northwind Traders", "type": "Company"})
    failed = run.invoke(app, ["sync", "CUSTOMER", "--full"])  # only coupled records sync by default
    assert failed.exit_code == 1 and "failed" in failed.output
    [error] = _json(run, "list", "--category", "permissions")  # type: ignore[misc]
    assert error["source"]["name"] == "Northwind Traders"
    assert "prvCreateAccount" in error["message"] and "security role" in error["hint"]

    sandbox.clear_faults()
    fixed = run.invoke(app, ["resync", str(error["id"])])
    assert fixed.exit_code == 0, fixed.output
    assert _json(run, "show", str(error["id"]))["status"] == "resolved"  # type: ignore[index]
    trail = _json(run, "audit", str(error["id"]))
    assert [entry["action"] for entry in trail] == ["resync"]  # type: ignore[union-attr]


def test_sync_find_deleted_reports_a_deleted_coupled_record(run: CliRunner, sandbox: SandboxServer) -> None:
    assert run.invoke(app, ["sync", "--full"]).exit_code == 0
    clean = run.invoke(app, ["sync", "--find-deleted", "customer"])
    assert clean.exit_code == 0, clean.output
    assert "CUSTOMER" in clean.stdout and "no deleted record" in clean.stdout
    customer = sandbox.state.bc_create("customers", {"displayName": "Gone Tomorrow", "type": "Company"})
    assert run.invoke(app, ["sync", "CUSTOMER", "--full"]).exit_code == 0
    sandbox.state.bc_delete("customers", str(customer["id"]))
    found = run.invoke(app, ["sync", "--find-deleted", "CUSTOMER"])
    assert found.exit_code == 1 and "need a decision" in found.output
    assert "point at a deleted record" in found.stdout
    [error] = _json(run, "list", "--category", "deleted-record")  # type: ignore[misc]
    assert error["destination"]["id"] == customer["id"]
    jobs = _json(run, "status")
    assert any(job["deleted"] == 1 and job["failed"] == 1 for job in jobs)  # type: ignore[union-attr]


def test_sync_find_deleted_does_not_go_with_full(run: CliRunner) -> None:
    result = run.invoke(app, ["sync", "--full", "--find-deleted"])
    assert result.exit_code == 2 and "--find-deleted" in result.output


def test_schedule_pause_resume_from_the_terminal(run: CliRunner) -> None:
    assert run.invoke(app, ["schedule", "CUSTOMER", "every", "15m"]).exit_code == 0
    assert run.invoke(app, ["pause", "contact"]).exit_code == 0
    entries = {entry["mapping"]: entry for entry in _json(run, "schedule")}  # type: ignore[union-attr]
    assert entries["CUSTOMER"]["interval_minutes"] == 15
    assert entries["CONTACT"]["paused"] is True
    assert run.invoke(app, ["resume", "CONTACT"]).exit_code == 0
    bad = run.invoke(app, ["schedule", "CUSTOMER", "every", "10s"])
    assert bad.exit_code == 2 and "Usage:" in bad.output
    unknown = run.invoke(app, ["pause", "NOPE"])
    assert unknown.exit_code == 2 and "Known mappings" in unknown.output


@pytest.mark.parametrize(
    ("words", "code", "says"),
    [
        (["couple", "customer:10000"], 2, "Usage:"),
        (["couple", "banana", "account:123"], 2, "customer:10000"),
        (["couple", "customer:10000", "account:x", "--sync", "both"], 2, "none, bc or dataverse"),
        (["resync"], 2, "Usage:"),
        (["resync", "424242"], 2, "#424242"),  # an unknown id is bad input
        (["keep", "1", "maybe"], 2, "bc or dataverse"),
        (["sync", "NOPE"], 2, "known mappings"),
        (["uncouple", "not-a-ref"], 2, "customer:10000"),
    ],
)
def test_bad_sync_arguments_say_what_was_wrong(
    run: CliRunner, words: list[str], code: int, says: str
) -> None:
    result = run.invoke(app, words)
    assert result.exit_code == code, result.output
    assert says.lower() in result.output.lower()
    assert "Traceback" not in result.output


def test_doctor_is_all_green_on_a_healthy_sandbox_and_names_the_fix_otherwise(
    run: CliRunner, sandbox: SandboxServer
) -> None:
    checks = _json(run, "doctor")
    assert isinstance(checks, list) and all(check["ok"] for check in checks)
    assert set(checks[0]) == {"check", "ok", "detail", "fix"}
    sandbox.set_fault("admin-integration-user")
    result = run.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    failing = [check for check in json.loads(result.stdout) if not check["ok"]]
    assert [check["check"] for check in failing] == ["integration-user-not-admin"]
    assert "System Administrator" in failing[0]["fix"]


def test_sync_without_connection_settings_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code == 1
    assert "BC_API_URL" in result.output and "DATAVERSE_URL" in result.output
