"""The actions on errors and couplings, on the fakes."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.sync.actions import SyncActions
from bot.sync.engine import SyncEngine
from bot.sync.refs import BadReference
from storage.models import (
    Category,
    Coupling,
    ErrorStatus,
    JobType,
    Notification,
    NotificationKind,
    SyncError,
    SyncJob,
)
from tests.bot.sync.fakes import FakeDataverse, FakeStore, create_new_records, seed_basics
from tests.bot.sync.test_engine_failures import coupling_of, errors, privilege_fault, refusal_fault


@pytest.fixture
def actions(sync: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> SyncActions:
    """Actions on an engine after a full sync of the basic seed."""
    seed_basics(bc, dv)
    sync.run(full=True)
    create_new_records(sync.db)
    sync.run()
    return SyncActions(sync)


def post_to_slack(actions: SyncActions, error_id: int) -> None:
    """Pretend the delivery loop posted the error."""
    with Session(actions.db) as session:
        error = session.get(SyncError, error_id)
        assert error is not None
        error.slack_channel, error.slack_ts = "C1", "1700000000.000100"
        session.add(error)
        session.commit()


def deleted_record_error(actions: SyncActions, bc: FakeStore, dv: FakeDataverse) -> SyncError:
    """Delete account 10000 in Dataverse, edit its customer, sync: a deleted-record error."""
    dv.remove("accounts", dv.find("accounts", accountnumber="10000")[0].id)
    bc.edit("customers", bc.find("customers", number="10000")[0].id, city="Brno")
    actions.engine.run(["CUSTOMER"])
    [error] = errors(actions.db)
    assert error.category == Category.DELETED_RECORD
    return error


def test_resync_clears_skipped_and_resolves_the_error(
    actions: SyncActions, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer = bc.find("customers", number="10000")[0]
    dv.faults.append(refusal_fault("accounts"))  # the record's own data is refused: skipped after two
    bc.edit("customers", customer.id, city="Brno")
    actions.engine.run(["CUSTOMER"])
    actions.engine.run(["CUSTOMER"])
    coupling = coupling_of(actions.db, customer.id)
    assert coupling is not None and coupling.skipped
    [error] = errors(actions.db)
    assert error.id is not None
    post_to_slack(actions, error.id)
    still = actions.resync(error.id, actor="U1")
    assert not still.ok and "Still failing" in still.message
    dv.faults.clear()
    outcome = actions.resync(error.id, actor="U1")
    assert outcome.ok and outcome.error is not None
    assert outcome.error.status == ErrorStatus.RESOLVED and outcome.error.resolved_by == "U1"
    coupling = coupling_of(actions.db, customer.id)
    assert coupling is not None and not coupling.skipped
    assert dv.find("accounts", accountnumber="10000")[0].fields["address1_city"] == "Brno"
    with Session(actions.db) as session:
        kinds = [n.kind for n in session.exec(select(Notification)).all()]
    assert NotificationKind.UPDATE in kinds
    again = actions.resync(error.id, actor="U2")
    assert not again.ok and "already resolved by U1" in again.message


def test_resync_of_an_unknown_error(actions: SyncActions) -> None:
    assert not actions.resync(999, actor="U1").ok


def test_resync_failed_retries_everything_that_failed(
    actions: SyncActions, bc: FakeStore, dv: FakeDataverse
) -> None:
    bc.put("customers", {"number": "90000", "displayName": "Danish", "currencyCode": "DKK"})
    actions.engine.run(["CUSTOMER"])
    assert len(errors(actions.db)) == 1
    failing = actions.resync_failed("CUSTOMER", actor="U1")
    assert not failing.ok and failing.data["attempted"] == 1
    bc.put("currencies", {"code": "DKK", "displayName": "Krone", "symbol": "kr"})
    bc.put(
        "currencyExchangeRates",
        {
            "currencyCode": "DKK",
            "startingDate": "2026-01-01",
            "exchangeAmount": 100,
            "relationalExchangeAmount": 13,
        },
    )
    actions.engine.run(["CURRENCY"])
    outcome = actions.resync_failed(None, actor="U1")
    assert outcome.ok, outcome.message
    assert all(e.status == ErrorStatus.RESOLVED for e in errors(actions.db))
    assert dv.find("accounts", accountnumber="90000")


def test_couple_dependency_couples_then_resyncs(
    actions: SyncActions, bc: FakeStore, dv: FakeDataverse
) -> None:
    bc.put("customers", {"number": "90000", "displayName": "Danish", "currencyCode": "DKK"})
    bc.put(
        "currencyExchangeRates",
        {
            "currencyCode": "DKK",
            "startingDate": "2026-01-01",
            "exchangeAmount": 100,
            "relationalExchangeAmount": 13,
        },
    )
    actions.engine.run(["CUSTOMER"])
    bc.put("currencies", {"code": "DKK", "displayName": "Krone", "symbol": "kr"})
    dv.put("transactioncurrencies", {"isocurrencycode": "DKK", "currencyname": "Danish krone"})
    [error] = errors(actions.db)
    assert error.id is not None
    outcome = actions.couple_dependency(error.id, actor="U1")
    assert outcome.ok, outcome.message
    assert "by match" in outcome.message
    account = dv.find("accounts", accountnumber="90000")[0]
    assert (
        account.fields["_transactioncurrencyid_value"]
        == dv.find("transactioncurrencies", isocurrencycode="DKK")[0].id
    )


def test_couple_refuses_when_either_side_is_coupled(actions: SyncActions, dv: FakeDataverse) -> None:
    coupled_account = dv.find("accounts", accountnumber="20000")[0]
    outcome = actions.couple("customer:10000", f"account:{coupled_account.id}", actor="U1")
    assert not outcome.ok
    assert "already coupled to customer 20000" in outcome.message


def test_couple_and_uncouple_a_new_pair(actions: SyncActions, bc: FakeStore, dv: FakeDataverse) -> None:
    bc.put("customers", {"number": "55000", "displayName": "Fresh BC"})
    account = dv.put("accounts", {"name": "Fresh DV", "accountnumber": "X"})
    with Session(actions.db) as session:
        session.add(SyncJob(mapping="CUSTOMER", direction="to_dataverse"))  # type: ignore[arg-type]
        session.commit()
    coupled = actions.couple("customer:55000", f"account:{account.id}", sync="bc", actor="U1")
    assert coupled.ok, coupled.message
    assert dv.find("accounts", name="Fresh BC")
    with pytest.raises(BadReference):
        actions.uncouple("customer:", actor="U1")
    assert not actions.uncouple("customer:90990", actor="U1").ok
    uncoupled = actions.uncouple(f"account:{account.id}", actor="U1")
    assert uncoupled.ok
    with Session(actions.db) as session:
        types = [j.type for j in session.exec(select(SyncJob)).all()]
    assert JobType.UNCOUPLING in types and JobType.COUPLING in types


def test_bare_guid_reference_is_looked_up_in_couplings(actions: SyncActions, bc: FakeStore) -> None:
    customer = bc.find("customers", number="10000")[0]
    assert actions.uncouple(customer.id, actor="U1").ok
    with pytest.raises(BadReference, match="No coupled record"):
        actions.uncouple(customer.id, actor="U1")


def test_couple_match_reports_its_counts(actions: SyncActions, bc: FakeStore, dv: FakeDataverse) -> None:
    bc.put("customers", {"number": "61000", "displayName": "Twin"})
    dv.put("accounts", {"name": "Twin"})
    dv.put("accounts", {"name": "twin"})
    bc.put("customers", {"number": "62000", "displayName": "Matchable"})
    dv.put("accounts", {"name": "MATCHABLE"})
    outcome = actions.couple_match("CUSTOMER", actor="U1")
    assert outcome.ok
    assert outcome.data["coupled"] == 1 and outcome.data["several_matches"] == 1
    strict = actions.couple_match(
        "CUSTOMER", actor="U1", fields=[("displayName", "name")], case_sensitive=True
    )
    assert strict.data["coupled"] == 1  # "Twin" now matches only "Twin"
    assert not actions.couple_match("NOPE", actor="U1").ok


def test_restore_record_recreates_the_missing_side(
    actions: SyncActions, bc: FakeStore, dv: FakeDataverse
) -> None:
    error = deleted_record_error(actions, bc, dv)
    assert error.id is not None
    outcome = actions.restore_record(error.id, actor="U1")
    assert outcome.ok, outcome.message
    [account] = dv.find("accounts", accountnumber="10000")
    coupling = coupling_of(actions.db, bc.find("customers", number="10000")[0].id)
    assert coupling is not None and coupling.dataverse_id == account.id


def test_delete_record_deletes_the_surviving_side_and_the_coupling(
    actions: SyncActions, bc: FakeStore, dv: FakeDataverse
) -> None:
    error = deleted_record_error(actions, bc, dv)
    customer_id = bc.find("customers", number="10000")[0].id
    assert error.id is not None
    outcome = actions.delete_record(error.id, actor="U1")
    assert outcome.ok, outcome.message
    assert not bc.find("customers", number="10000")
    assert coupling_of(actions.db, customer_id) is None


def test_remove_coupling_from_an_error(actions: SyncActions, bc: FakeStore, dv: FakeDataverse) -> None:
    error = deleted_record_error(actions, bc, dv)
    assert error.id is not None
    assert actions.remove_coupling(error.id, actor="U1").ok
    assert not actions.remove_coupling(error.id, actor="U1").ok  # already resolved


def test_restore_refuses_when_both_records_exist(
    actions: SyncActions, bc: FakeStore, dv: FakeDataverse
) -> None:
    dv.faults.append(privilege_fault("accounts"))
    bc.edit("customers", bc.find("customers", number="10000")[0].id, city="Brno")
    actions.engine.run(["CUSTOMER"])
    [error] = errors(actions.db)
    assert error.id is not None
    outcome = actions.restore_record(error.id, actor="U1")
    assert not outcome.ok and "Both coupled records exist" in outcome.message


@pytest.mark.parametrize(("side", "expected"), [("business_central", "BC name"), ("dataverse", "DV name")])
def test_take_side_settles_an_update_conflict(
    actions: SyncActions, bc: FakeStore, dv: FakeDataverse, side: str, expected: str
) -> None:
    customer = bc.find("customers", number="10000")[0]
    bc.edit("customers", customer.id, displayName="BC name")
    dv.edit("accounts", dv.find("accounts", accountnumber="10000")[0].id, name="DV name")
    actions.engine.run(["CUSTOMER"])
    [error] = errors(actions.db)
    assert error.id is not None and error.category == Category.UPDATE_CONFLICT
    outcome = actions.take_side(error.id, side, actor="U1")  # type: ignore[arg-type]
    assert outcome.ok, outcome.message
    assert bc.find("customers", number="10000")[0].fields["displayName"] == expected
    assert dv.find("accounts", accountnumber="10000")[0].fields["name"] == expected
    actions.engine.run(["CUSTOMER"])
    assert [e.status for e in errors(actions.db)] == [ErrorStatus.RESOLVED]
    with Session(actions.db) as session:
        assert session.exec(select(Coupling).where(Coupling.bc_id == customer.id)).one().failure_count == 0
