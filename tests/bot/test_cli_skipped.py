"""Skipped couplings stay visible: `list --skipped`, doctor, cleanup and purge, against the sandbox."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.blocks import build_skipped_list
from bot.cli import app
from bot.jobs.cleanup import clean_up
from bot.operations import reports
from bot.sandbox import SandboxServer
from storage.models import Category, Coupling, ErrorStatus, SyncError
from tests.bot.blocks.checks import action_ids
from tests.bot.test_cli_refusals import customer_and_account, run, sandbox

__all__ = ["run", "sandbox"]


def skipped(run: CliRunner) -> list[dict[str, Any]]:
    """`list --skipped --json`."""
    result = run.invoke(app, ["list", "--skipped", "--json"])
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)
    assert isinstance(value, list)
    return value


def make_skipped(run: CliRunner, engine: Engine, sandbox: SandboxServer) -> Coupling:
    """Customer 10000's currency row is gone from Dataverse: the same failure twice marks it Skipped."""
    customer, _account = customer_and_account(engine, sandbox)
    currency = sandbox.state.dv_find("transactioncurrencies", isocurrencycode="EUR")
    assert currency is not None
    sandbox.state.dv_delete("transactioncurrencies", currency["transactioncurrencyid"])
    sandbox.state.bc_update("customers", customer["id"], {"currencyCode": "EUR"})
    run.invoke(app, ["sync", "CUSTOMER"])
    run.invoke(app, ["sync", "CUSTOMER"])  # the failed coupling is retried and fails the same way
    with Session(engine) as session:
        coupling = session.exec(select(Coupling).where(Coupling.bc_id == customer["id"])).one()
    assert coupling.skipped
    return coupling


def test_a_skipped_coupling_stays_visible_after_cleanup_and_purge(
    run: CliRunner, engine: Engine, sandbox: SandboxServer
) -> None:
    assert skipped(run) == []
    coupling = make_skipped(run, engine, sandbox)
    [item] = skipped(run)
    assert item["coupling_id"] == coupling.id and item["mapping"] == "CUSTOMER"
    assert item["business_central"]["key"] == "10000"
    last = item["last_error"]
    assert last["category"] == str(Category.DEPENDENCY_NOT_COUPLED) and last["status"] == "open"
    assert "EUR" in last["message"]
    text = run.invoke(app, ["list", "--skipped"])
    assert (
        text.exit_code == 0 and "1 Skipped coupling" in text.stdout and f"resync {last['id']}" in text.stdout
    )

    doctor = json.loads(run.invoke(app, ["doctor", "--json"]).stdout)
    warning = next(check for check in doctor if check["check"] == "skipped-couplings")
    assert not warning["ok"] and "CUSTOMER 10000" in warning["detail"] and "list --skipped" in warning["fix"]

    # The daily cleanup with a retention of 0 days keeps the Skipped coupling's only trace.
    result = clean_up(engine, retention_days=0, channel=None)
    with Session(engine) as session:
        kept = session.get(SyncError, last["id"])
    assert kept is not None and kept.status is ErrorStatus.OPEN
    assert result.job_id

    # A purge of everything deletes the entry; the coupling is still listed, with the way to fix it.
    assert run.invoke(app, ["purge", "--all", "--yes"]).exit_code == 0
    [item] = skipped(run)
    assert item["coupling_id"] == coupling.id and item["last_error"] is None
    found = reports.skipped(engine)
    message = build_skipped_list(found.items, found.total).to_dict()
    text = json.dumps(message)
    assert "resync --failed --mapping CUSTOMER" in text and "uncouple customer:10000" in text
    assert action_ids(message) == []
    doctor = json.loads(run.invoke(app, ["doctor", "--json"]).stdout)
    assert not next(check for check in doctor if check["check"] == "skipped-couplings")["ok"]


def test_a_skipped_coupling_whose_account_was_deleted_offers_restore_not_only_resync(
    run: CliRunner, engine: Engine, sandbox: SandboxServer
) -> None:
    customer, account_id = customer_and_account(engine, sandbox)
    sandbox.state.dv_delete("accounts", account_id)
    for city in ("Graz", "Linz"):  # two edits, two runs: the same failure twice marks the coupling Skipped
        sandbox.state.bc_update("customers", customer["id"], {"city": city})
        run.invoke(app, ["sync", "CUSTOMER"])
    [item] = skipped(run)
    last = item["last_error"]
    assert last["category"] == str(Category.DELETED_RECORD)
    text = run.invoke(app, ["list", "--skipped"]).stdout
    assert f"restore {last['id']} ·" in text and f"delete-record {last['id']} ·" in text, text
    assert f"resync {last['id']}" not in text
