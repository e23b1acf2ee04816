"""Change detection by ETag: edits in the second of the engine's own write, stale ETags, old couplings."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.connectors.errors import ConnectorError
from bot.sync.engine import SyncEngine
from storage.models import Category, Coupling, SyncError, UpdateConflictResolution
from tests.bot.sync.fakes import FakeClock, FakeDataverse, FakeStore, Fault, FrozenClock, seed_basics
from tests.bot.sync.test_engine_failures import set_mapping
from tests.bot.sync.test_engine_fakes import by_key, writes


def categories(engine: Engine) -> list[Category]:
    """The category of every error entry, oldest first."""
    with Session(engine) as session:
        return [e.category for e in session.exec(select(SyncError).order_by(col(SyncError.id))).all()]


def customer_and_account(bc: FakeStore, dv: FakeDataverse, number: str) -> tuple[str, str]:
    """The ids of a customer and its account."""
    return bc.find("customers", number=number)[0].id, dv.find("accounts", accountnumber=number)[0].id


def person_saves_first(dv: FakeDataverse, account_id: str, **fields: Any) -> Fault:
    """A fault that lets a person save the account just before the engine's first write to accounts."""
    saved: list[bool] = []

    def fault(method: str, table: str, _body: dict[str, Any] | None) -> ConnectorError | None:
        if (method, table) == ("PATCH", "accounts") and not saved:
            saved.append(True)
            dv.edit("accounts", account_id, **fields)
        return None

    return fault


class TestInTheSameSecond:
    """The clock stands still: the engine's writes and a person's edits share one modified-on."""

    @pytest.fixture
    def clock(self) -> FakeClock:
        """A frozen clock for the fake apps and the engine."""
        return FrozenClock()

    @pytest.fixture
    def synced(self, sync: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> SyncEngine:
        """The engine after a full and an incremental run of the basic seed."""
        seed_basics(bc, dv)
        sync.run(full=True)
        sync.run()
        return sync

    def test_edits_on_both_sides_are_picked_up(
        self, synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
    ) -> None:
        customer_id, _ = customer_and_account(bc, dv, "10000")
        _, account_id = customer_and_account(bc, dv, "20000")
        bc.edit("customers", customer_id, city="Brno")
        dv.edit("accounts", account_id, telephone1="+420 111")
        jobs = by_key(synced.run(["CUSTOMER"]))
        assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"modified": 1}
        assert writes(jobs[("CUSTOMER", "from_dataverse", "sync")]) == {"modified": 1}
        assert dv.find("accounts", accountnumber="10000")[0].fields["address1_city"] == "Brno"
        assert bc.find("customers", number="20000")[0].fields["phoneNumber"] == "+420 111"

    def test_an_edit_of_what_the_engine_just_wrote_is_picked_up(
        self, synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
    ) -> None:
        customer_id, account_id = customer_and_account(bc, dv, "20000")
        dv.edit("accounts", account_id, telephone1="+420 111")
        synced.run(["CUSTOMER"])  # writes the customer
        bc.edit("customers", customer_id, city="Ostrava")  # a person edits what the engine wrote
        jobs = by_key(synced.run(["CUSTOMER"]))
        assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"modified": 1}
        assert dv.find("accounts", accountnumber="20000")[0].fields["address1_city"] == "Ostrava"

    def test_the_copy_read_before_the_engines_own_write_is_not_synced_back(
        self, synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
    ) -> None:
        customer_id, account_id = customer_and_account(bc, dv, "20000")
        dv.edit("accounts", account_id, telephone1="+420 111")
        synced.run(["CUSTOMER"])
        bc.edit("customers", customer_id, displayName="Renamed in BC")
        jobs = by_key(synced.run(["CUSTOMER"]))
        assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"modified": 1}
        assert writes(jobs[("CUSTOMER", "from_dataverse", "sync")]) == {}
        assert bc.find("customers", number="20000")[0].fields["displayName"] == "Renamed in BC"
        assert dv.find("accounts", accountnumber="20000")[0].fields["name"] == "Renamed in BC"

    def test_rereading_the_engines_own_writes_is_no_work(
        self, synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
    ) -> None:
        customer_id, _ = customer_and_account(bc, dv, "10000")
        _, account_id = customer_and_account(bc, dv, "20000")
        dv.edit("accounts", account_id, telephone1="+420 111")
        bc.edit("customers", customer_id, city="Ostrava")
        synced.run()
        synced.page_size = 1000  # in a frozen second the overlap re-reads every row: one page per side
        bc.batch_requests = dv.batch_requests = bc.requests = dv.requests = 0
        for _ in range(2):
            jobs = synced.run(["CUSTOMER"])
            assert all(writes(j) == {} for j in jobs)
        assert bc.batch_requests == dv.batch_requests == 0
        assert (bc.requests, dv.requests) == (2, 2 * 3)  # one changes query per side, WhoAmI and roles


class TestStaleEtag:
    """A destination that changed after it was read is read again and decided again, not overwritten."""

    @pytest.fixture
    def synced(self, sync: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> SyncEngine:
        """The engine after a full and an incremental run of the basic seed."""
        seed_basics(bc, dv)
        sync.run(full=True)
        sync.run()
        return sync

    def test_without_a_resolution_it_is_an_update_conflict(
        self, synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
    ) -> None:
        customer_id, account_id = customer_and_account(bc, dv, "10000")
        bc.edit("customers", customer_id, displayName="BC name")
        dv.faults.append(person_saves_first(dv, account_id, name="DV name"))
        jobs = by_key(synced.run(["CUSTOMER"]))
        assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"failed": 1}
        assert categories(synced.db) == [Category.UPDATE_CONFLICT]
        assert dv.find("accounts", accountnumber="10000")[0].fields["name"] == "DV name"
        assert bc.find("customers", number="10000")[0].fields["displayName"] == "BC name"

    def test_business_central_wins_after_reading_the_row_again(
        self, synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
    ) -> None:
        set_mapping(synced.db, "CUSTOMER", update_conflict=UpdateConflictResolution.BUSINESS_CENTRAL_WINS)
        customer_id, account_id = customer_and_account(bc, dv, "10000")
        bc.edit("customers", customer_id, displayName="BC name")
        dv.faults.append(person_saves_first(dv, account_id, name="DV name"))
        dv.get_requests = 0
        jobs = by_key(synced.run(["CUSTOMER"]))
        assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"modified": 1}
        assert dv.get_requests == 1
        assert categories(synced.db) == []
        assert dv.find("accounts", accountnumber="10000")[0].fields["name"] == "BC name"

    def test_dataverse_wins_and_its_edit_comes_over_on_the_next_run(
        self, synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
    ) -> None:
        set_mapping(synced.db, "CUSTOMER", update_conflict=UpdateConflictResolution.DATAVERSE_WINS)
        customer_id, account_id = customer_and_account(bc, dv, "10000")
        bc.edit("customers", customer_id, displayName="BC name")
        dv.faults.append(person_saves_first(dv, account_id, name="DV name"))
        synced.run(["CUSTOMER"])
        assert dv.find("accounts", accountnumber="10000")[0].fields["name"] == "DV name"
        synced.run(["CUSTOMER"])
        assert categories(synced.db) == []
        assert bc.find("customers", number="10000")[0].fields["displayName"] == "DV name"


def test_couplings_without_etags_fall_back_to_modified_on(
    sync: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    seed_basics(bc, dv)
    sync.run(full=True)
    sync.run()
    with Session(sync.db) as session:
        for coupling in session.exec(select(Coupling)).all():
            coupling.bc_etag = coupling.dataverse_etag = None
            session.add(coupling)
        session.commit()
    customer_id, account_id = customer_and_account(bc, dv, "10000")
    bc.edit("customers", customer_id, city="Brno")
    jobs = by_key(sync.run(["CUSTOMER"]))
    assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"modified": 1}
    again = sync.run(["CUSTOMER"])
    assert all(writes(j) == {} for j in again)
    with Session(sync.db) as session:
        coupling = session.exec(select(Coupling).where(Coupling.bc_id == customer_id)).one()
    assert coupling.bc_etag == bc.find("customers", number="10000")[0].etag
    assert coupling.dataverse_etag == dv.find("accounts", accountnumber="10000")[0].etag
    assert coupling.dataverse_id == account_id
