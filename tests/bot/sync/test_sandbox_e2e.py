"""End to end: the engine with the real connectors against the sandbox over HTTP (127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.sandbox import SandboxServer
from bot.sync.actions import SyncActions
from bot.sync.engine import SyncEngine
from storage.models import Category, Coupling, SyncError, SyncJob, Trigger
from tests.bot.sync.live import live_engine

RECORDS = 12


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A fresh sandbox with a dozen customers."""
    sandbox = SandboxServer(port=0, records=RECORDS, seed=7).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def live(server: SandboxServer, engine: Engine) -> Iterator[SyncEngine]:
    """The engine on the real connectors, retrying without sleeping."""
    with live_engine(server, engine, page_size=5) as sync:
        yield sync


def categories(engine: Engine) -> list[Category]:
    """The categories of every error entry."""
    with Session(engine) as session:
        return [e.category for e in session.exec(select(SyncError).order_by(SyncError.id)).all()]


def job(jobs: list[SyncJob], mapping: str, direction: str, type_: str = "sync") -> SyncJob:
    """The job of a mapping, direction and type."""
    return next(j for j in jobs if (j.mapping, str(j.direction), str(j.type)) == (mapping, direction, type_))


def test_full_sync_of_the_seed_then_nothing_changed(live: SyncEngine, server: SandboxServer) -> None:
    jobs = live.run(full=True)
    assert categories(live.db) == []
    customers_out = job(jobs, "CUSTOMER", "to_dataverse")
    assert customers_out.failed == 0
    assert customers_out.inserted + customers_out.modified + customers_out.unchanged == RECORDS
    currencies = job(jobs, "CURRENCY", "to_dataverse")
    assert currencies.inserted == 3 and currencies.modified + currencies.unchanged == 2  # USD, EUR matched
    # Only active accounts of relationship type Customer are CUSTOMER's (the seed has vendors, competitors…).
    accounts = [
        a
        for a in server.state.dv_rows("accounts")
        if a.get("customertypecode") in (None, 3) and a.get("statecode") in (None, 0)
    ]
    customers = server.state.bc_rows("customers")
    assert len(accounts) == len(customers)
    with Session(live.db) as session:
        assert len(session.exec(select(Coupling).where(Coupling.mapping == "CUSTOMER")).all()) == len(
            customers
        )
    live.run()
    live.page_size = 1000  # one page per side: the overlap may re-read what the last runs wrote
    before = server.request_count()
    jobs = live.run(["CUSTOMER"])
    assert all(j.inserted + j.modified + j.failed == 0 for j in jobs)
    assert server.request_count() - before <= 4  # WhoAmI, roles, one changes query per side


def edit_then_sync_both_ways(live: SyncEngine, server: SandboxServer) -> None:
    """Edit customer 10000 in BC and customer 20000's account in Dataverse, sync, then edit both sides."""
    customer = server.state.bc_find("customers", number="10000")
    other = server.state.bc_find("customers", number="20000")
    assert customer is not None and other is not None
    with Session(live.db) as session:
        coupling = session.exec(select(Coupling).where(Coupling.bc_id == customer["id"])).one()
        other_coupling = session.exec(select(Coupling).where(Coupling.bc_id == other["id"])).one()
    server.state.bc_update("customers", customer["id"], {"city": "Brno"})
    server.state.dv_update("accounts", other_coupling.dataverse_id, {"telephone1": "+420 555"})
    jobs = live.run(["CUSTOMER"])
    assert [(j.inserted, j.modified, j.failed) for j in jobs] == [(0, 1, 0), (0, 1, 0)]
    assert server.state.dv_get("accounts", coupling.dataverse_id)["address1_city"] == "Brno"  # type: ignore[index]
    assert server.state.bc_get("customers", other["id"])["phoneNumber"] == "+420 555"  # type: ignore[index]
    server.state.bc_update("customers", customer["id"], {"displayName": "BC side"})
    server.state.dv_update("accounts", coupling.dataverse_id, {"name": "DV side"})
    live.run(["CUSTOMER"])
    assert categories(live.db) == [Category.UPDATE_CONFLICT]
    assert server.state.dv_get("accounts", coupling.dataverse_id)["name"] == "DV side"  # type: ignore[index]
    assert server.state.bc_get("customers", customer["id"])["displayName"] == "BC side"  # type: ignore[index]


def test_edits_on_each_side_and_a_conflict(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    edit_then_sync_both_ways(live, server)  # edits right after each sync, mostly in the second it wrote


def test_edits_in_the_instant_of_the_sync_are_not_missed(live: SyncEngine, server: SandboxServer) -> None:
    # The clock stands still: every write, ours and the person's, has the same modified-on on both sides.
    with time_machine.travel(datetime.now(UTC), tick=False):
        live.run(full=True)
        edit_then_sync_both_ways(live, server)
        other = server.state.bc_find("customers", number="20000")  # the last run wrote it, in this instant
        assert other is not None
        server.state.bc_update("customers", other["id"], {"city": "Ostrava"})
        jobs = live.run(["CUSTOMER"])
        assert [(j.inserted, j.modified) for j in jobs] == [(0, 1), (0, 0)]
        account = server.state.dv_find("accounts", accountnumber="20000")
        assert account is not None and account["address1_city"] == "Ostrava"
        jobs = live.run(["CUSTOMER"])
    assert [(j.inserted, j.modified) for j in jobs] == [(0, 0), (0, 0)]  # re-read own writes are no work


@pytest.mark.parametrize(
    ("fault", "category"),
    [
        ("missing-privilege", Category.PERMISSIONS),
        ("admin-integration-user", Category.ADMIN_INTEGRATION_USER),
        ("password-change-required", Category.CREDENTIALS),
        ("missing-exchange-rate", Category.EXCHANGE_RATE),
    ],
)
def test_faults_produce_their_category(
    live: SyncEngine, server: SandboxServer, fault: str, category: Category
) -> None:
    server.set_fault(fault)
    live.run(full=True)
    assert category in categories(live.db)


def test_deleted_coupled_record_and_its_restore(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    server.set_fault("deleted-coupled-record")
    live.run(["CUSTOMER"], full=True)
    assert categories(live.db) == [Category.DELETED_RECORD]
    with Session(live.db) as session:
        error = session.exec(select(SyncError)).one()
    assert error.id is not None
    outcome = SyncActions(live).restore_record(error.id, actor="U1")
    assert outcome.ok, outcome.message


def test_throttling_exhausted_is_throttled(live: SyncEngine, server: SandboxServer) -> None:
    server.set_fault("throttle", limit=1, window_seconds=60, retry_after=30, side="both")
    live.run(full=True)
    assert Category.THROTTLED in categories(live.db)


def test_find_deleted_reads_ids_only_and_finds_each_kind_of_deletion(
    live: SyncEngine, server: SandboxServer
) -> None:
    live.run(full=True)
    with Session(live.db) as session:
        query = select(Coupling).where(Coupling.mapping == "CUSTOMER").order_by(Coupling.id)  # type: ignore[arg-type]
        rows = session.exec(query).all()
        gone_in_dv, gone_in_bc, gone_in_both = rows[:3]
    server.state.dv_delete("accounts", gone_in_dv.dataverse_id)
    server.state.bc_delete("customers", gone_in_bc.bc_id)
    server.state.dv_delete("accounts", gone_in_both.dataverse_id)
    server.state.bc_delete("customers", gone_in_both.bc_id)
    bc_before, dv_before = server.request_count("/bc"), server.request_count("/dataverse")
    [found] = live.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert (found.deleted, found.failed, found.uncoupled, found.inserted) == (3, 2, 1, 0)
    # One page of ids per table, plus a GET of each surviving record; WhoAmI and roles first; the BC
    # company's name for the error's link, once per client.
    assert server.request_count("/bc") - bc_before == 1 + 1 + 1
    assert server.request_count("/dataverse") - dv_before == 2 + 1 + 1
    with Session(live.db) as session:
        found_errors = session.exec(select(SyncError).order_by(SyncError.id)).all()
        assert session.get(Coupling, gone_in_both.id) is None
    assert [(e.category, e.source_id) for e in found_errors] == [
        (Category.DELETED_RECORD, gone_in_dv.bc_id),
        (Category.DELETED_RECORD, gone_in_bc.dataverse_id),
    ]
    assert found_errors[0].id is not None
    outcome = SyncActions(live).restore_record(found_errors[0].id, actor="U1")
    assert outcome.ok, outcome.message
    [again] = live.find_deleted(["CUSTOMER"], trigger=Trigger.CLI)
    assert (again.deleted, again.failed) == (1, 1)  # the customer deleted in BC is still waiting for people
