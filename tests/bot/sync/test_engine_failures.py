"""Failures on the fakes: conflicts, deletions, dependencies, setup problems, interruptions."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.connectors.errors import (
    AuthenticationFailed,
    ConnectorError,
    InvalidData,
    PermissionDenied,
    Throttled,
)
from bot.sync.engine import SyncEngine
from storage.models import (
    Category,
    Coupling,
    DeletionConflictResolution,
    ErrorStatus,
    Mapping,
    Notification,
    NotificationKind,
    SyncError,
    UpdateConflictResolution,
)
from tests.bot.sync.fakes import FakeDataverse, FakeStore, create_new_records, seed_basics
from tests.bot.sync.test_engine_fakes import by_key, counters, writes


def errors(engine: Engine) -> list[SyncError]:
    """Every error entry, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(SyncError).order_by(SyncError.id)).all())


def set_mapping(engine: Engine, name: str, **values: Any) -> None:
    """Change settings of a mapping row."""
    with Session(engine) as session:
        row = session.exec(select(Mapping).where(Mapping.name == name)).one()
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
        session.commit()


def coupling_of(engine: Engine, bc_id: str) -> Coupling | None:
    """The coupling of a BC record."""
    with Session(engine) as session:
        return session.exec(select(Coupling).where(Coupling.bc_id == bc_id)).first()


def privilege_fault(table: str) -> Any:
    """A fault refusing creates and updates of `table` with Dataverse's missing-privilege answer."""

    def fault(method: str, target: str, _body: dict[str, Any] | None) -> ConnectorError | None:
        if target == table and method in ("POST", "PATCH"):
            return PermissionDenied(
                message="Principal user (Id=1, type=8) is missing prvWriteAccount privilege "
                "for entity 'account'",
                status=403,
                code="0x80040220",
                system="dataverse",
                privilege="prvWriteAccount",
                entity="account",
            )
        return None

    return fault


def refusal_fault(table: str) -> Any:
    """A fault refusing creates and updates of `table` for the record's own data (a validation error)."""

    def fault(method: str, target: str, _body: dict[str, Any] | None) -> ConnectorError | None:
        if target == table and method in ("POST", "PATCH"):
            return InvalidData(
                message="A validation error occurred. The value 999 of 'address1_postalcode' is not valid.",
                status=400,
                code="0x80044331",
                system="dataverse",
            )
        return None

    return fault


@pytest.fixture
def synced(sync: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> SyncEngine:
    """The engine after a full sync of the basic seed."""
    seed_basics(bc, dv)
    sync.run(full=True)
    create_new_records(sync.db)
    sync.run()
    return sync


def test_update_conflict_without_resolution_is_an_error(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer = bc.find("customers", number="10000")[0]
    account = dv.find("accounts", accountnumber="10000")[0]
    bc.edit("customers", customer.id, displayName="BC name")
    dv.edit("accounts", account.id, name="Dataverse name")
    jobs = by_key(synced.run(["CUSTOMER"]))
    assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"failed": 1}
    assert writes(jobs[("CUSTOMER", "from_dataverse", "sync")]) == {}
    [error] = errors(synced.db)
    assert error.category == Category.UPDATE_CONFLICT
    assert "displayName ↔ name" in error.detail
    assert dv.find("accounts", accountnumber="10000")[0].fields["name"] == "Dataverse name"
    assert bc.find("customers", number="10000")[0].fields["displayName"] == "BC name"


@pytest.mark.parametrize(
    ("winner", "expected"),
    [
        (UpdateConflictResolution.BUSINESS_CENTRAL_WINS, "BC name"),
        (UpdateConflictResolution.DATAVERSE_WINS, "DV name"),
    ],
)
def test_update_conflict_with_a_resolution_lets_that_side_win(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse, winner: UpdateConflictResolution, expected: str
) -> None:
    set_mapping(synced.db, "CUSTOMER", update_conflict=winner)
    customer = bc.find("customers", number="10000")[0]
    account = dv.find("accounts", accountnumber="10000")[0]
    bc.edit("customers", customer.id, displayName="BC name")
    dv.edit("accounts", account.id, name="DV name")
    synced.run(["CUSTOMER"])
    assert errors(synced.db) == []
    assert dv.find("accounts", accountnumber="10000")[0].fields["name"] == expected
    assert bc.find("customers", number="10000")[0].fields["displayName"] == expected


def test_both_sides_changed_to_the_same_value_is_no_conflict(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer = bc.find("customers", number="10000")[0]
    account = dv.find("accounts", accountnumber="10000")[0]
    bc.edit("customers", customer.id, displayName="Same")
    dv.edit("accounts", account.id, name="Same")
    synced.run(["CUSTOMER"])
    assert errors(synced.db) == []


def test_deleted_destination_is_a_deleted_record_error(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer = bc.find("customers", number="10000")[0]
    account = dv.find("accounts", accountnumber="10000")[0]
    dv.remove("accounts", account.id)
    bc.edit("customers", customer.id, city="Brno")
    jobs = by_key(synced.run(["CUSTOMER"]))
    assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"failed": 1}
    [error] = errors(synced.db)
    assert error.category == Category.DELETED_RECORD
    assert error.destination_url is None and error.source_url is not None
    assert coupling_of(synced.db, customer.id) is not None


def test_full_sync_finds_a_deleted_destination_without_an_edit(synced: SyncEngine, dv: FakeDataverse) -> None:
    dv.remove("accounts", dv.find("accounts", accountnumber="20000")[0].id)
    synced.run(["CUSTOMER"], full=True)
    assert [e.category for e in errors(synced.db)] == [Category.DELETED_RECORD]


def test_deletion_conflict_restore_recreates_and_keeps_the_coupling(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    set_mapping(synced.db, "CUSTOMER", deletion_conflict=DeletionConflictResolution.RESTORE)
    customer = bc.find("customers", number="10000")[0]
    dv.remove("accounts", dv.find("accounts", accountnumber="10000")[0].id)
    bc.edit("customers", customer.id, city="Brno")
    jobs = by_key(synced.run(["CUSTOMER"]))
    assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"inserted": 1}
    [restored] = dv.find("accounts", accountnumber="10000")
    assert restored.fields["address1_city"] == "Brno"
    coupling = coupling_of(synced.db, customer.id)
    assert coupling is not None and coupling.dataverse_id == restored.id
    assert errors(synced.db) == []


def test_deletion_conflict_remove_coupling_drops_it(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    set_mapping(synced.db, "CUSTOMER", deletion_conflict=DeletionConflictResolution.REMOVE_COUPLING)
    customer = bc.find("customers", number="10000")[0]
    dv.remove("accounts", dv.find("accounts", accountnumber="10000")[0].id)
    bc.edit("customers", customer.id, city="Brno")
    synced.run(["CUSTOMER"])
    assert coupling_of(synced.db, customer.id) is None
    assert errors(synced.db) == []


def test_uncoupled_dependency_fails_the_record_and_others_go_on(synced: SyncEngine, bc: FakeStore) -> None:
    bc.put("customers", {"number": "90000", "displayName": "Danish", "currencyCode": "DKK"})
    bc.put("customers", {"number": "90010", "displayName": "Local", "currencyCode": ""})
    jobs = by_key(synced.run(["CUSTOMER"]))
    assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"inserted": 1, "failed": 1}
    [error] = errors(synced.db)
    assert error.category == Category.DEPENDENCY_NOT_COUPLED
    assert "DKK" in error.message and error.source_key == "90000"
    assert error.facts["dependency_mapping"] == "CURRENCY"


def test_missing_exchange_rate_fails_the_currency(synced: SyncEngine, bc: FakeStore) -> None:
    bc.put("currencies", {"code": "DKK", "displayName": "Danish krone", "symbol": "kr"})
    synced.run(["CURRENCY"])
    [error] = errors(synced.db)
    assert error.category == Category.EXCHANGE_RATE and "DKK" in error.message


def test_missing_privilege_is_permissions_and_retried_until_the_privilege_is_back(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer = bc.find("customers", number="10000")[0]
    dv.faults.append(privilege_fault("accounts"))
    bc.edit("customers", customer.id, city="Brno")
    first = by_key(synced.run(["CUSTOMER"]))
    assert writes(first[("CUSTOMER", "to_dataverse", "sync")]) == {"failed": 1}
    [error] = errors(synced.db)
    assert error.category == Category.PERMISSIONS and error.occurrences == 1
    synced.run(["CUSTOMER"])  # unchanged, but failed: re-tried
    synced.run(["CUSTOMER"])
    [error] = errors(synced.db)
    assert error.occurrences == 3
    coupling = coupling_of(synced.db, customer.id)
    # The privilege is the setup's problem, not the record's: never a reason to skip the record.
    assert coupling is not None and not coupling.skipped
    dv.faults.clear()
    synced.run(["CUSTOMER"])
    [error] = errors(synced.db)
    assert error.status == ErrorStatus.RESOLVED
    assert dv.find("accounts", accountnumber="10000")[0].fields["address1_city"] == "Brno"


def test_the_same_refusal_of_the_record_twice_skips_it(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer = bc.find("customers", number="10000")[0]
    dv.faults.append(refusal_fault("accounts"))
    bc.edit("customers", customer.id, city="Brno")
    synced.run(["CUSTOMER"])
    synced.run(["CUSTOMER"])  # unchanged, but failed and not skipped: re-tried
    [error] = errors(synced.db)
    assert error.category == Category.VALIDATION and error.occurrences == 2
    coupling = coupling_of(synced.db, customer.id)
    assert coupling is not None and coupling.skipped
    third = by_key(synced.run(["CUSTOMER"]))
    assert errors(synced.db)[0].occurrences == 2  # a skipped coupling is left alone
    assert "failed" not in writes(third[("CUSTOMER", "to_dataverse", "sync")])


def test_new_errors_and_repeats_go_to_the_outbox(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer = bc.find("customers", number="10000")[0]
    dv.faults.append(privilege_fault("accounts"))
    bc.edit("customers", customer.id, city="Brno")
    synced.run(["CUSTOMER"])
    synced.run(["CUSTOMER"])
    with Session(synced.db) as session:
        kinds = [n.kind for n in session.exec(select(Notification).order_by(Notification.id)).all()]
    assert kinds == [NotificationKind.NEW_ERROR, NotificationKind.REPEAT]


def test_admin_integration_user_records_one_error_and_writes_nothing(
    sync: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    seed_basics(bc, dv)
    dv.roles = ["System Administrator", "Business Central Dataverse Integration"]
    jobs = sync.run(full=True)
    assert len(jobs) == 1 and jobs[0].failed == 1 and jobs[0].message
    [error] = errors(sync.db)
    assert error.category == Category.ADMIN_INTEGRATION_USER and error.source_id is None
    assert dv.batch_calls == 0 and bc.batch_calls == 0
    sync.run()
    assert [e.occurrences for e in errors(sync.db)] == [2]


def test_sign_in_refusal_ends_the_run_with_one_credentials_error(
    sync: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    seed_basics(bc, dv)
    dv.sign_in_error = AuthenticationFailed(
        message="AADSTS50055: The password is expired.",
        status=400,
        code="invalid_grant",
        system="auth",
        aadsts="AADSTS50055",
    )
    jobs = sync.run()
    assert len(jobs) == 1
    [error] = errors(sync.db)
    assert error.category == Category.CREDENTIALS


def test_throttling_exhausted_ends_the_job_with_a_message_and_one_error(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    for n in range(3):
        bc.put("customers", {"number": f"7000{n}", "displayName": f"New {n}"})
    dv.batch_error = Throttled(
        message="Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
        status=429,
        code="0x80072322",
        system="dataverse",
        retry_after=30,
    )
    jobs = synced.run(["CUSTOMER"])
    assert len(jobs) == 1 and jobs[0].message
    [error] = errors(synced.db)
    assert error.category == Category.THROTTLED
    with Session(synced.db) as session:
        mapping = session.exec(select(Mapping).where(Mapping.name == "CUSTOMER")).one()
        assert mapping.last_run_at is not None  # failed runs in a row are the health job's count
    synced.run(["CUSTOMER"])  # the watermark did not move: nothing is lost
    assert len(dv.find("accounts", name="New 2")) == 1


def test_interrupted_run_resumes_without_duplicates_or_losses(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    for n in range(5):
        bc.put("customers", {"number": f"8000{n}", "displayName": f"Batch {n}"})

    def boom(_calls: int) -> None:
        raise RuntimeError("power cut")

    dv.after_batch = boom
    with pytest.raises(RuntimeError):
        synced.run(["CUSTOMER"])  # pages of 2: the first page's writes happened, the rest did not
    dv.after_batch = None
    synced.run(["CUSTOMER"])
    synced.run(["CUSTOMER"])
    names = sorted(a.fields["name"] for a in dv.rows("accounts") if a.fields["name"].startswith("Batch"))
    assert names == [f"Batch {n}" for n in range(5)]


def test_interrupted_after_commit_of_first_batch_keeps_it(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    for n in range(5):
        bc.put("customers", {"number": f"8100{n}", "displayName": f"Page {n}"})
    original = dv.batch

    def second_batch_fails(operations: Any) -> Any:
        if dv.batch_calls >= 1:
            raise RuntimeError("killed between batches")
        return original(operations)

    dv.batch_calls = 0
    dv.batch = second_batch_fails  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        synced.run(["CUSTOMER"])
    dv.batch = original  # type: ignore[method-assign]
    jobs = by_key(synced.run(["CUSTOMER"]))
    assert 0 < writes(jobs[("CUSTOMER", "to_dataverse", "sync")])["inserted"] < 5  # the first batch was kept
    names = sorted(a.fields["name"] for a in dv.rows("accounts") if a.fields["name"].startswith("Page"))
    assert names == [f"Page {n}" for n in range(5)]
    assert counters(jobs[("CUSTOMER", "to_dataverse", "sync")])["unchanged"] >= 1
