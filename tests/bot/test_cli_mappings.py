"""`sync-errors mappings`: every mapping's settings as (setting, value) rows, and changing one, audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.sync.mappings import DEFAULT_SPECS
from storage.mappings import get_mapping
from storage.models import AuditEntry, Direction, UpdateConflictResolution

SETTINGS = [
    "direction", "sync_only_coupled", "deletion_conflict", "update_conflict", "interval", "enabled", "paused",
]  # fmt: skip


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, database_url: str) -> CliRunner:
    """A runner on the test store."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


def _settings(run: CliRunner) -> dict[str, dict[str, str]]:
    result = run.invoke(app, ["mappings", "--json"])
    assert result.exit_code == 0, result.output
    return {
        item["name"]: {row["setting"]: row["value"] for row in item["settings"]}
        for item in json.loads(result.stdout)
    }


def test_mappings_lists_every_mapping_with_its_settings_as_rows(run: CliRunner) -> None:
    result = run.invoke(app, ["mappings", "--json"])
    data = json.loads(result.stdout)
    assert [item["name"] for item in data] == [spec.name for spec in DEFAULT_SPECS]
    filters = ["table_filter", "integration_table_filter"]  # Business Central's defaults, shown
    assert all([row["setting"] for row in item["settings"]] == [*SETTINGS, *filters] for item in data)
    customer = {row["setting"]: row["value"] for row in data[2]["settings"]}
    assert customer["integration_table_filter"] == "Status = Active and Relationship Type = Customer"
    assert customer["sync_only_coupled"] == "true"
    assert data[2]["bc_table"] == "customers" and data[2]["dataverse_table"] == "accounts"
    human = run.invoke(app, ["mappings"])
    assert "CUSTOMER" in human.stdout and "update_conflict" in human.stdout


def test_a_setting_changes_and_is_audited(run: CliRunner, engine: Engine) -> None:
    assert run.invoke(app, ["mappings", "customer", "set", "update_conflict", "bc"]).exit_code == 0
    assert run.invoke(app, ["mappings", "CONTACT", "set", "direction", "to_dataverse"]).exit_code == 0
    assert run.invoke(app, ["mappings", "CUSTOMER", "set", "sync_only_coupled", "false"]).exit_code == 0
    assert run.invoke(app, ["mappings", "CUSTOMER", "set", "interval", "15m"]).exit_code == 0
    assert run.invoke(app, ["mappings", "CUSTOMER", "set", "paused", "yes"]).exit_code == 0
    settings = _settings(run)["CUSTOMER"]
    assert settings["update_conflict"] == "business_central" and settings["sync_only_coupled"] == "false"
    assert settings["interval"] == "15m" and settings["paused"] == "true"
    with Session(engine) as session:
        customer, contact = get_mapping(session, name="CUSTOMER"), get_mapping(session, name="CONTACT")
        assert customer is not None and contact is not None
        assert customer.update_conflict == UpdateConflictResolution.BUSINESS_CENTRAL_WINS
        assert contact.direction == Direction.TO_DATAVERSE
        details = [entry.detail for entry in session.exec(select(AuditEntry)).all()]
    assert "update_conflict: none → business_central" in details


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["mappings", "NOPE", "set", "direction", "to_dataverse"], "known mappings"),
        (["mappings", "CUSTOMER", "set", "colour", "red"], "settings: direction"),
        (
            ["mappings", "CUSTOMER", "set", "direction", "sideways"],
            "to_dataverse, from_dataverse or bidirectional",
        ),
        (["mappings", "SALESPEOPLE", "set", "direction", "bidirectional"], "only runs from_dataverse"),
        (["mappings", "CUSTOMER", "set", "sync_only_coupled", "maybe"], "true or false"),
        (["mappings", "CUSTOMER", "set", "interval", "10s"], "interval"),
        (["mappings", "CUSTOMER", "direction"], "Usage:"),
    ],
)
def test_bad_settings_exit_2_and_change_nothing(run: CliRunner, words: list[str], says: str) -> None:
    before = _settings(run)
    result = run.invoke(app, words)
    assert result.exit_code == 2, result.output
    assert says.lower() in result.output.lower() and "Traceback" not in result.output
    assert _settings(run) == before
