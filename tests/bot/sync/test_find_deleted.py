"""Find for Deleted on the fakes: couplings whose record is gone on one side or both, settled as a sync."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.connectors.errors import Throttled
from bot.sync import deleted
from bot.sync.engine import SyncEngine
from storage.models import (
    Category,
    Coupling,
    DeletionConflictResolution,
    ErrorStatus,
    JobType,
    Notification,
    NotificationKind,
    SyncJob,
    Trigger,
)
from tests.bot.sync.fakes import FakeDataverse, FakeStore, seed_basics
from tests.bot.sync.test_engine_failures import coupling_of, errors, set_mapping
from tests.bot.sync.test_engine_fakes import counters


@pytest.fixture
def synced(sync: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> SyncEngine:
    """The engine after a full sync of the basic seed (three customers, coupled)."""
    seed_basics(bc, dv)
    sync.run(full=True)
    sync.run()
    return sync


def notifications(engine: Engine) -> list[NotificationKind]:
    """The kind of every queued notification, oldest first."""
    with Session(engine) as session:
        return [n.kind for n in session.exec(select(Notification).order_by(Notification.id)).all()]  # type: ignore[arg-type]


def couplings(engine: Engine, mapping: str) -> int:
    """How many couplings a mapping has."""
    with Session(engine) as session:
        return len(session.exec(select(Coupling).where(Coupling.mapping == mapping)).all())


def customer_and_account(bc: FakeStore, dv: FakeDataverse, number: str) -> tuple[str, str]:
    """The ids of a customer and its account."""
    return bc.find("customers", number=number)[0].id, dv.find("accounts", accountnumber=number)[0].id


def test_nothing_deleted_is_one_quiet_job_per_mapping(synced: SyncEngine) -> None:
    jobs = synced.find_deleted(trigger=Trigger.CLI)
    assert [j.mapping for j in jobs] == ["SALESPEOPLE", "CURRENCY", "CUSTOMER", "CONTACT", "ITEM-PRODUCT"]
    assert all(counters(j) == {} and j.type == JobType.SYNC and j.finished_at for j in jobs)
    assert jobs[2].message == "Find deleted: no deleted record among 3 couplings."
    assert errors(synced.db) == []


def test_deleted_in_dataverse_is_the_deleted_record_error_a_sync_would_log(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer, account = customer_and_account(bc, dv, "10000")
    dv.remove("accounts", account)
    before = notifications(synced.db)
    [job] = synced.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert counters(job) == {"deleted": 1, "failed": 1}
    assert (job.type, job.trigger) == (JobType.SYNC, Trigger.CLI)
    assert "1 of 3 couplings point at a deleted record" in job.message
    [error] = errors(synced.db)
    assert error.category == Category.DELETED_RECORD
    assert str(error.direction) == "to_dataverse"
    assert (error.source_id, error.destination_id) == (customer, account)
    assert error.source_key == "10000" and error.source_url is not None and error.destination_url is None
    assert error.job_id == job.id
    assert notifications(synced.db)[len(before) :] == [NotificationKind.NEW_ERROR]
    assert coupling_of(synced.db, customer) is not None  # people decide: restore, delete or uncouple


def test_deleted_in_business_central_names_the_surviving_account(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer, account = customer_and_account(bc, dv, "20000")
    bc.remove("customers", customer)
    [job] = synced.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert counters(job) == {"deleted": 1, "failed": 1}
    [error] = errors(synced.db)
    assert error.category == Category.DELETED_RECORD
    assert str(error.direction) == "from_dataverse"
    assert (error.source_id, error.destination_id) == (account, customer)


def test_a_repeat_is_a_repeat_and_a_later_sync_meets_the_same_error(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer, account = customer_and_account(bc, dv, "10000")
    dv.remove("accounts", account)
    synced.find_deleted(["CUSTOMER"], trigger=Trigger.SCHEDULE)
    synced.find_deleted(["CUSTOMER"], trigger=Trigger.SCHEDULE)
    [error] = errors(synced.db)
    assert error.occurrences == 2 and error.status == ErrorStatus.OPEN
    kinds = notifications(synced.db)
    assert kinds.count(NotificationKind.NEW_ERROR) == 1 and kinds.count(NotificationKind.REPEAT) == 1
    coupling = coupling_of(synced.db, customer)
    assert coupling is not None and coupling.skipped  # the same failure twice, as Business Central does


def test_a_sync_after_the_finding_counts_a_repeat_of_the_same_error(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer, account = customer_and_account(bc, dv, "10000")
    dv.remove("accounts", account)
    synced.find_deleted(["CUSTOMER"], trigger=Trigger.SCHEDULE)
    bc.edit("customers", customer, city="Brno")
    synced.run(["CUSTOMER"])
    [error] = errors(synced.db)
    assert error.occurrences == 2


def test_deleted_on_both_sides_is_uncoupled_and_counted(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer, account = customer_and_account(bc, dv, "10000")
    bc.remove("customers", customer)
    dv.remove("accounts", account)
    [job] = synced.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert counters(job) == {"deleted": 1, "uncoupled": 1}
    assert job.type == JobType.UNCOUPLING
    assert "uncoupled 1 (1 deleted on both sides)" in job.message
    assert coupling_of(synced.db, customer) is None and couplings(synced.db, "CUSTOMER") == 2
    assert errors(synced.db) == []


def test_both_sides_gone_resolves_the_error_of_the_earlier_finding(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    customer, account = customer_and_account(bc, dv, "10000")
    dv.remove("accounts", account)
    synced.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    bc.remove("customers", customer)
    synced.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    [error] = errors(synced.db)
    assert error.status == ErrorStatus.RESOLVED and "Both records were deleted" in (error.resolution or "")


@pytest.mark.parametrize("deleted_side", ["dataverse", "business_central"])
def test_restore_recreates_the_deleted_side_and_keeps_the_coupling(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse, deleted_side: str
) -> None:
    set_mapping(synced.db, "CUSTOMER", deletion_conflict=DeletionConflictResolution.RESTORE)
    customer, account = customer_and_account(bc, dv, "10000")
    if deleted_side == "dataverse":
        dv.remove("accounts", account)
    else:
        bc.remove("customers", customer)
    [job] = synced.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert counters(job) == {"deleted": 1, "inserted": 1}
    assert "restored 1" in job.message
    with Session(synced.db) as session:
        coupling = session.exec(select(Coupling).where(Coupling.bc_key == "10000")).one()
    if deleted_side == "dataverse":
        [restored] = dv.find("accounts", accountnumber="10000")
        assert restored.id != account and coupling.dataverse_id == restored.id
        assert restored.fields["name"] == "Customer 0"
    else:
        [restored] = bc.find("customers", displayName="Customer 0")
        assert restored.id != customer and coupling.bc_id == restored.id
    assert errors(synced.db) == []
    again = synced.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert counters(again[0]) == {}


def test_restore_from_a_side_the_mapping_does_not_sync_from_is_an_error(
    synced: SyncEngine, bc: FakeStore
) -> None:
    set_mapping(synced.db, "CURRENCY", deletion_conflict=DeletionConflictResolution.RESTORE)
    currency = bc.find("currencies", code="USD")[0]
    bc.remove("currencies", currency.id)  # CURRENCY only goes to Dataverse: nothing to restore it from
    [job] = synced.find_deleted(["CURRENCY"], trigger=Trigger.CLI)
    assert counters(job) == {"deleted": 1, "failed": 1}
    [error] = errors(synced.db)
    assert error.category == Category.DELETED_RECORD and str(error.direction) == "from_dataverse"
    assert bc.find("currencies", code="USD") == []


def test_remove_coupling_drops_it_and_leaves_the_surviving_record(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    set_mapping(synced.db, "CUSTOMER", deletion_conflict=DeletionConflictResolution.REMOVE_COUPLING)
    customer, account = customer_and_account(bc, dv, "10000")
    dv.remove("accounts", account)
    bc.requests = 0
    [job] = synced.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert counters(job) == {"deleted": 1, "uncoupled": 1}
    assert job.type == JobType.UNCOUPLING
    assert coupling_of(synced.db, customer) is None
    assert bc.find("customers", number="10000") and errors(synced.db) == []
    assert bc.requests == 1  # the ids only: the surviving customer is not read


def test_skipped_couplings_are_looked_at_too(synced: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> None:
    customer, account = customer_and_account(bc, dv, "30000")
    with Session(synced.db) as session:
        coupling = session.exec(select(Coupling).where(Coupling.bc_id == customer)).one()
        coupling.skipped = True
        session.add(coupling)
        session.commit()
    dv.remove("accounts", account)
    [job] = synced.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert counters(job) == {"deleted": 1, "failed": 1}


def test_the_scan_reads_ids_only_a_page_at_a_time(sync: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> None:
    seed_basics(bc, dv, customers=25)
    sync.run(full=True)
    sync.scan_page_size = 10
    dv.remove("accounts", dv.find("accounts", accountnumber="10000")[0].id)
    bc.requests = dv.requests = 0
    bc.selects.clear()
    dv.selects.clear()
    [job] = sync.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert counters(job) == {"deleted": 1, "failed": 1}
    assert bc.selects == [("customers", [])] and dv.selects == [("accounts", [])]
    assert dv.requests == 2 + 3  # WhoAmI, roles; 25 accounts - 1 in pages of 10
    assert bc.requests == 3 + 1  # 25 customers in pages of 10; the surviving customer, whole


def test_many_surviving_records_are_read_in_one_stream_not_a_get_each(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deleted, "GET_LIMIT", 1)
    for number in ("10000", "20000"):
        dv.remove("accounts", dv.find("accounts", accountnumber=number)[0].id)
    bc.get_requests = 0
    [job] = synced.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert counters(job) == {"deleted": 2, "failed": 2}
    assert bc.get_requests == 0
    assert len(errors(synced.db)) == 2


def test_an_admin_integration_user_is_one_job_level_error_and_nothing_is_written(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    set_mapping(synced.db, "CUSTOMER", deletion_conflict=DeletionConflictResolution.REMOVE_COUPLING)
    customer, account = customer_and_account(bc, dv, "10000")
    dv.remove("accounts", account)
    dv.roles = ["System Administrator"]
    bc.requests = 0
    jobs = synced.find_deleted(trigger=Trigger.SCHEDULE)
    assert len(jobs) == 1 and jobs[0].failed == 1
    [error] = errors(synced.db)
    assert error.category == Category.ADMIN_INTEGRATION_USER
    assert coupling_of(synced.db, customer) is not None
    assert bc.requests == 0


def test_a_refused_read_ends_the_run_with_one_job_level_error(synced: SyncEngine, dv: FakeDataverse) -> None:
    def refuse(*_args: object, **_kwargs: object) -> object:
        raise Throttled(message="Rate limit is exceeded.", status=429, retry_after=30.0, system="dataverse")

    dv.iter_changed = refuse  # type: ignore[method-assign]
    jobs = synced.find_deleted(["CUSTOMER", "CONTACT"], trigger=Trigger.SCHEDULE)
    assert [j.mapping for j in jobs] == ["CUSTOMER"]  # the run stops, as a sync run does
    assert jobs[0].failed == 1 and jobs[0].finished_at is not None
    [error] = errors(synced.db)
    assert error.category == Category.THROTTLED


def test_jobs_are_in_the_job_log(synced: SyncEngine, dv: FakeDataverse) -> None:
    dv.remove("accounts", dv.find("accounts", accountnumber="10000")[0].id)
    synced.find_deleted(["CUSTOMER"], trigger=Trigger.SCHEDULE)
    with Session(synced.db) as session:
        job = session.exec(select(SyncJob).where(SyncJob.deleted == 1)).one()
    assert (job.mapping, job.trigger, job.failed) == ("CUSTOMER", Trigger.SCHEDULE, 1)
