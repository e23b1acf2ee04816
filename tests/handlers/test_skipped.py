"""Skipped couplings in Slack: `/sync-errors skipped` and App Home, each with Re-sync / Remove coupling."""

from __future__ import annotations

import json

from sqlmodel import Session

from storage.models import Category, Coupling
from tests.factories import make_error
from tests.handlers.conftest import USER, Harness


def _skipped(
    harness: Harness, *, with_entry: bool = True, category: Category = Category.VALIDATION
) -> int | None:
    with Session(harness.db) as session:
        error_id = None
        fingerprint = "fp-skipped"
        if with_entry:
            error = make_error(
                session,
                mapping="CUSTOMER",
                message="Currency EUR does not exist in Dataverse",
                category=category,
            )
            fingerprint = error.fingerprint
            error_id = error.id
        session.add(
            Coupling(
                mapping="CUSTOMER",
                bc_table="customers",
                bc_id="bc-1",
                dataverse_table="accounts",
                dataverse_id="dv-1",
                bc_key="10000",
                name="Adatum Corporation",
                skipped=True,
                failure_fingerprint=fingerprint,
                failure_count=2,
            )
        )
        session.commit()
        return error_id


def test_skipped_command_lists_the_couplings_with_their_fixes(harness: Harness) -> None:
    error_id = _skipped(harness)
    text = harness.answer_text(harness.command("skipped"))
    assert "Coupled Data Synchronization Errors" in text and "1 coupling is Skipped" in text
    assert "Adatum Corporation" in text and "Currency EUR does not exist" in text
    assert '"action_id": "resync"' in text and '"action_id": "uncouple"' in text
    assert f'"value": "{error_id}"' in text
    same = harness.answer_text(harness.command("list --skipped"))
    assert "1 coupling is Skipped" in same


def test_a_skipped_coupling_whose_record_was_deleted_offers_restore_and_delete_record(
    harness: Harness,
) -> None:
    _skipped(harness, category=Category.DELETED_RECORD)
    text = harness.answer_text(harness.command("skipped"))
    for action in ("restore_record", "delete_record", "resync", "uncouple"):
        assert f'"action_id": "{action}"' in text, action
    assert text.index('"restore_record"') < text.index('"resync"')  # the fix first, Re-sync kept


def test_skipped_command_without_any(harness: Harness) -> None:
    assert "No coupling is Skipped" in harness.answer_text(harness.command("skipped"))


def test_home_shows_the_skipped_couplings(harness: Harness) -> None:
    _skipped(harness)
    harness.open_home(USER)
    (call,) = harness.calls("views.publish")
    view = json.dumps(call.body["view"])
    assert "Coupled Data Synchronization Errors" in view and "Adatum Corporation" in view
    assert '"action_id": "resync"' in view and '"action_id": "uncouple"' in view
