"""Fixes refuse when they do not apply: one line why and what would, exit code 2, nothing changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from storage.errors import resolve_error
from storage.models import Category, Coupling, ErrorStatus, SyncError


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox per test."""
    server = SandboxServer(port=0, records=12, seed=7).start()
    yield server
    server.stop()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, database_url: str, sandbox: SandboxServer) -> CliRunner:
    """A runner whose commands use the test store and the sandbox."""
    for name, value in {
        "DATABASE_URL": database_url,
        "BC_API_URL": sandbox.bc_api_url,
        "BC_WEB_URL": sandbox.bc_web_url,
        "DATAVERSE_URL": sandbox.dataverse_url,
        "AUTH_TOKEN_URL": sandbox.token_url,
        "AZURE_CLIENT_ID": SANDBOX_CLIENT_ID,
        "AZURE_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "SYNC_ADMINS": "",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    assert runner.invoke(app, ["sync", "--full"]).exit_code == 0
    return runner


def snapshot(engine: Engine, sandbox: SandboxServer) -> dict[str, Any]:
    """Everything a fix could change: both apps' rows, the errors' states, the couplings."""
    with Session(engine) as session:
        errors = [(e.id, e.status, e.occurrences) for e in session.exec(select(SyncError)).all()]
        couplings = [(c.id, c.bc_id, c.dataverse_id, c.skipped) for c in session.exec(select(Coupling)).all()]
    rows = {
        table: sorted(json.dumps(row, sort_keys=True, default=str) for row in sandbox.state.dv_rows(table))
        for table in ("accounts", "transactioncurrencies")
    }
    rows["customers"] = sorted(
        json.dumps(row, sort_keys=True, default=str) for row in sandbox.state.bc_rows("customers")
    )
    return {"errors": sorted(errors), "couplings": sorted(couplings), "rows": rows}


def error_of(engine: Engine, category: Category) -> SyncError:
    """The newest error of a category."""
    with Session(engine) as session:
        found = session.exec(
            select(SyncError).where(SyncError.category == category).order_by(SyncError.id.desc())  # type: ignore[union-attr]
        ).first()
    assert found is not None, category
    return found


def customer_and_account(engine: Engine, sandbox: SandboxServer) -> tuple[dict[str, Any], str]:
    """Customer 10000 and its coupled account id."""
    customer = sandbox.state.bc_find("customers", number="10000")
    assert customer is not None
    with Session(engine) as session:
        coupling = session.exec(select(Coupling).where(Coupling.bc_id == customer["id"])).one()
    return customer, coupling.dataverse_id


def stale_deleted_record_error(run: CliRunner, engine: Engine, sandbox: SandboxServer) -> SyncError:
    """A deleted-record error whose account is back (both records exist again)."""
    customer, account_id = customer_and_account(engine, sandbox)
    account = sandbox.state.dv_get("accounts", account_id)
    assert account is not None
    sandbox.state.dv_delete("accounts", account_id)
    sandbox.state.bc_update("customers", customer["id"], {"city": "Graz"})
    run.invoke(app, ["sync", "CUSTOMER"])
    error = error_of(engine, Category.DELETED_RECORD)
    sandbox.state.store.put("dataverse", "accounts", account_id, account)
    return error


def dependency_error(run: CliRunner, engine: Engine, sandbox: SandboxServer) -> SyncError:
    """A dependency error: the account's currency row is gone from Dataverse."""
    customer, _account = customer_and_account(engine, sandbox)
    currency = sandbox.state.dv_find("transactioncurrencies", isocurrencycode="EUR")
    assert currency is not None
    sandbox.state.dv_delete("transactioncurrencies", currency["transactioncurrencyid"])
    sandbox.state.bc_update("customers", customer["id"], {"currencyCode": "EUR"})
    run.invoke(app, ["sync", "CUSTOMER"])
    return error_of(engine, Category.DEPENDENCY_NOT_COUPLED)


def refused(run: CliRunner, engine: Engine, sandbox: SandboxServer, words: list[str], says: str) -> None:
    """The command exits 2 with one line saying why, and nothing changed anywhere."""
    before = snapshot(engine, sandbox)
    result = run.invoke(app, words)
    assert result.exit_code == 2, result.output
    assert says.lower() in result.output.lower(), result.output
    assert "Traceback" not in result.output
    assert snapshot(engine, sandbox) == before


def test_deletion_fixes_refuse_when_both_records_exist(
    run: CliRunner, engine: Engine, sandbox: SandboxServer
) -> None:
    error = stale_deleted_record_error(run, engine, sandbox)
    assert error.status is ErrorStatus.OPEN
    refused(run, engine, sandbox, ["restore", str(error.id), "--yes"], "both coupled records exist")
    refused(run, engine, sandbox, ["delete-record", str(error.id), "--yes"], "both coupled records exist")
    refused(
        run, engine, sandbox, ["keep", str(error.id), "bc", "--yes"], "applies only to an update conflict"
    )
    assert error_of(engine, Category.DELETED_RECORD).status is ErrorStatus.OPEN


def test_remove_coupling_refuses_a_stale_deleted_record_error(
    run: CliRunner, engine: Engine, sandbox: SandboxServer
) -> None:
    from bot.config import load_settings
    from bot.services import build_services
    from bot.sync.actions import SyncActions

    error = stale_deleted_record_error(run, engine, sandbox)
    before = snapshot(engine, sandbox)
    services = build_services(load_settings(), slack=None)
    try:
        outcome = SyncActions(services.sync_engine()).remove_coupling(error.id or 0, actor="U1")
    finally:
        services.close()
    assert not outcome.ok and outcome.refused
    assert "Both coupled records exist" in outcome.message
    assert snapshot(engine, sandbox) == before


def test_keep_refuses_a_dependency_error(run: CliRunner, engine: Engine, sandbox: SandboxServer) -> None:
    error = dependency_error(run, engine, sandbox)
    assert error.status is ErrorStatus.OPEN
    refused(
        run,
        engine,
        sandbox,
        ["keep", str(error.id), "dataverse", "--yes"],
        "applies only to an update conflict",
    )
    refused(run, engine, sandbox, ["restore", str(error.id), "--yes"], "both coupled records exist")
    assert error_of(engine, Category.DEPENDENCY_NOT_COUPLED).status is ErrorStatus.OPEN


def test_snooze_and_resync_refuse_a_resolved_error(
    run: CliRunner, engine: Engine, sandbox: SandboxServer
) -> None:
    error = dependency_error(run, engine, sandbox)
    with Session(engine) as session:
        row = session.get(SyncError, error.id)
        assert row is not None
        resolve_error(session, error=row, by="U1", resolution="fixed by hand")
        session.commit()
    refused(run, engine, sandbox, ["snooze", str(error.id), "1h"], "is resolved")
    refused(run, engine, sandbox, ["resync", str(error.id)], "already resolved")
    refused(run, engine, sandbox, ["keep", str(error.id), "bc", "--yes"], "already resolved")
    assert error_of(engine, Category.DEPENDENCY_NOT_COUPLED).status is ErrorStatus.RESOLVED


def test_couple_refuses_an_already_coupled_pair(
    run: CliRunner, engine: Engine, sandbox: SandboxServer
) -> None:
    customer, account_id = customer_and_account(engine, sandbox)
    refused(
        run,
        engine,
        sandbox,
        ["couple", "customer:10000", f"account:{account_id}"],
        "already coupled to each other",
    )
    other = sandbox.state.bc_find("customers", number="20000")
    assert other is not None
    refused(run, engine, sandbox, ["couple", "customer:20000", f"account:{account_id}"], "already coupled")


def test_a_fix_that_cannot_apply_is_refused_before_its_confirmation_question(
    run: CliRunner, engine: Engine, sandbox: SandboxServer
) -> None:
    error = dependency_error(run, engine, sandbox)
    # without --yes and without a terminal: the refusal says why, not "needs a yes"
    refused(run, engine, sandbox, ["keep", str(error.id), "dataverse"], "applies only to an update conflict")
    with Session(engine) as session:
        row = session.get(SyncError, error.id)
        assert row is not None
        resolve_error(session, error=row, by="U1", resolution="fixed by hand")
        session.commit()
    for words in (
        ["restore", str(error.id)],
        ["delete-record", str(error.id)],
        ["keep", str(error.id), "bc"],
    ):
        refused(run, engine, sandbox, words, "already resolved")
