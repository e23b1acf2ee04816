"""Sync integrity, situation by situation: records counted on both sides of the sandbox over HTTP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.sandbox import SandboxServer
from bot.sync.actions import SyncActions
from bot.sync.engine import INITIAL_FULL_SYNC, SyncEngine
from storage.db import session_scope
from storage.mappings import set_sync_only_coupled
from storage.models import Category, Coupling, ErrorStatus, JobType, SyncError, SyncJob
from tests.bot.sync.live import live_engine

RECORDS = 10


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A fresh sandbox with ten customers (and accounts of every relationship type)."""
    sandbox = SandboxServer(port=0, records=RECORDS, seed=3).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def live(server: SandboxServer, engine: Engine) -> Iterator[SyncEngine]:
    """The engine on the real connectors, a short read timeout, retrying without sleeping."""
    with live_engine(server, engine, timeout=2.0, page_size=4, max_retry_after=2.0) as sync:
        yield sync


def names(server: SandboxServer, table: str) -> Counter[str]:
    """Dataverse rows (accounts) or Business Central records (customers) per name."""
    if table == "accounts":
        return Counter(str(r.get("name")) for r in server.state.dv_rows("accounts"))
    return Counter(str(r.get("displayName")) for r in server.state.bc_rows(table))


def live_errors(engine: Engine, category: Category | None = None) -> list[SyncError]:
    """Open errors, oldest first (of one category)."""
    with Session(engine) as session:
        query = select(SyncError).where(SyncError.status == ErrorStatus.OPEN)
        if category is not None:
            query = query.where(SyncError.category == category)
        return list(session.exec(query.order_by(SyncError.id)).all())  # type: ignore[arg-type]


def create_new_records(engine: Engine, *mappings: str) -> None:
    """Clear "Synch. Only Coupled Records": new records get a partner."""
    with session_scope(engine) as session:
        for name in mappings:
            set_sync_only_coupled(session, name=name, only_coupled=False)


def coupling_of_number(engine: Engine, number: str) -> Coupling | None:
    """The CUSTOMER coupling of a customer number."""
    with Session(engine) as session:
        return session.exec(
            select(Coupling).where(Coupling.mapping == "CUSTOMER", Coupling.bc_key == number)
        ).first()


def test_first_plain_sync_is_the_initial_full_sync(live: SyncEngine, server: SandboxServer) -> None:
    before = names(server, "accounts")
    currencies_before = Counter(
        str(r["isocurrencycode"]) for r in server.state.dv_rows("transactioncurrencies")
    )
    jobs = live.run()
    assert live_errors(live.db) == []
    currencies = Counter(str(r["isocurrencycode"]) for r in server.state.dv_rows("transactioncurrencies"))
    assert all(n == 1 for n in currencies.values()) and currencies["USD"] == currencies_before["USD"] == 1
    after = names(server, "accounts")
    customers = names(server, "customers")
    for name, count in after.items():
        assert count <= max(before.get(name, 0), customers.get(name, 0), 1), name
    coupling_jobs = [j for j in jobs if j.type == JobType.COUPLING]
    assert coupling_jobs and all(j.message.startswith(INITIAL_FULL_SYNC) for j in coupling_jobs)
    again = live.run()
    assert sum(j.inserted for j in again) == 0 and live_errors(live.db) == []


def test_other_relationship_types_never_become_customers(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    kinds = {str(r["accountid"]): r.get("customertypecode") for r in server.state.dv_rows("accounts")}
    active = {str(r["accountid"]): r.get("statecode") for r in server.state.dv_rows("accounts")}
    assert any(kind not in (None, 3) for kind in kinds.values()), "the seed has vendors and competitors"
    with Session(live.db) as session:
        couplings = session.exec(select(Coupling).where(Coupling.mapping == "CUSTOMER")).all()
    assert couplings
    for coupling in couplings:
        assert kinds[coupling.dataverse_id] in (None, 3) and active[coupling.dataverse_id] in (None, 0)


def test_a_batch_committed_but_answered_too_late_creates_nothing_twice(
    live: SyncEngine, server: SandboxServer
) -> None:
    live.run(full=True)
    create_new_records(live.db, "CUSTOMER")
    for n in range(3):
        server.state.bc_create("customers", {"displayName": f"Late Answer {n}", "type": "Company"})
    server.set_fault("lost-batch-answer", side="dataverse", mode="drop")
    live.run(["CUSTOMER"])
    server.clear_faults()
    live.run(["CUSTOMER"])
    live.run(["CUSTOMER"])
    accounts = names(server, "accounts")
    assert [accounts[f"Late Answer {n}"] for n in range(3)] == [1, 1, 1]
    for n in range(3):
        [customer] = [r for r in server.state.bc_rows("customers") if r["displayName"] == f"Late Answer {n}"]
        coupling = coupling_of_number(live.db, str(customer["number"]))
        assert coupling is not None and not coupling.pending


def test_uncouple_means_stop(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    create_new_records(live.db, "CUSTOMER")
    customer = server.state.bc_rows("customers")[0]
    coupling = coupling_of_number(live.db, str(customer["number"]))
    assert coupling is not None
    outcome = SyncActions(live).uncouple(f"customer:{customer['number']}", actor="U1")
    assert outcome.ok
    with Session(live.db) as session:
        job = session.exec(select(SyncJob).where(SyncJob.type == JobType.UNCOUPLING)).one()
    assert job.uncoupled == 1
    accounts, customers = names(server, "accounts"), names(server, "customers")
    server.state.bc_update("customers", str(customer["id"]), {"city": "Brno"})
    server.state.dv_update("accounts", coupling.dataverse_id, {"address1_city": "Delft"})
    live.run(["CUSTOMER"])
    live.run(["CUSTOMER"], full=True)
    assert names(server, "accounts") == accounts and names(server, "customers") == customers
    assert coupling_of_number(live.db, str(customer["number"])) is None
    assert server.state.dv_get("accounts", coupling.dataverse_id)["address1_city"] == "Delft"  # type: ignore[index]


def test_several_matches_is_an_error_of_its_own_and_creates_nothing(
    live: SyncEngine, server: SandboxServer
) -> None:
    live.run(full=True)
    create_new_records(live.db, "CUSTOMER")
    for _ in range(2):
        server.state.dv_create("accounts", {"name": "Twin Traders", "customertypecode": 3})
    server.state.bc_create("customers", {"displayName": "Twin Traders", "type": "Company"})
    jobs = live.run(["CUSTOMER"])
    assert names(server, "accounts")["Twin Traders"] == 2 and names(server, "customers")["Twin Traders"] == 1
    [error] = live_errors(live.db, Category.SEVERAL_MATCHES)
    assert error.source_name == "Twin Traders" and len(error.facts["candidates"]) == 2
    outward = next(j for j in jobs if str(j.direction) == "to_dataverse" and j.type == JobType.SYNC)
    assert outward.failed == 1


def test_couple_outside_the_filter_is_refused(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    vendor = server.state.dv_create("accounts", {"name": "Supplies Ltd", "customertypecode": 11})
    customer = server.state.bc_create("customers", {"displayName": "Supplies Ltd", "type": "Company"})
    outcome = SyncActions(live).couple(
        f"customer:{customer['number']}", f"account:{vendor['accountid']}", actor="U1"
    )
    assert not outcome.ok and "Relationship Type = Customer" in outcome.message
    assert coupling_of_number(live.db, str(customer["number"])) is None


def test_coupling_the_same_pair_again_keeps_pending_changes(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    customer = server.state.bc_rows("customers")[1]
    coupling = coupling_of_number(live.db, str(customer["number"]))
    assert coupling is not None
    server.state.bc_update("customers", str(customer["id"]), {"city": "Olomouc"})
    actions = SyncActions(live)
    again = actions.couple(f"customer:{customer['number']}", f"account:{coupling.dataverse_id}", actor="U1")
    assert not again.ok and "already coupled" in again.message
    live.run(["CUSTOMER"])
    assert server.state.dv_get("accounts", coupling.dataverse_id)["address1_city"] == "Olomouc"  # type: ignore[index]
    server.state.dv_update("accounts", coupling.dataverse_id, {"address1_city": "Delft"})
    taken = actions.couple(
        f"customer:{customer['number']}", f"account:{coupling.dataverse_id}", sync="dataverse", actor="U1"
    )
    assert taken.ok
    assert server.state.bc_get("customers", str(customer["id"]))["city"] == "Delft"  # type: ignore[index]


def test_couple_create_makes_exactly_one_partner(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    customer = server.state.bc_create("customers", {"displayName": "Brand New Co", "type": "Company"})
    live.run(["CUSTOMER"])  # only coupled records sync by default: nothing is created
    assert names(server, "accounts")["Brand New Co"] == 0
    actions = SyncActions(live)
    created = actions.couple_create(f"customer:{customer['number']}", actor="U1")
    assert created.ok, created.message
    assert names(server, "accounts")["Brand New Co"] == 1
    twice = actions.couple_create(f"customer:{customer['number']}", actor="U1")
    assert not twice.ok and "already coupled" in twice.message
    assert names(server, "accounts")["Brand New Co"] == 1


def test_a_failed_mapping_skips_only_its_dependents(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    server.set_fault("missing-privilege", privilege="prvReadAccount")
    jobs = live.run()
    by_mapping: dict[str, list[Any]] = {}
    for job in jobs:
        by_mapping.setdefault(job.mapping, []).append(job)
    assert any(j.failed for j in by_mapping["CUSTOMER"])
    [contact] = by_mapping["CONTACT"]
    assert contact.message.startswith("Skipped: CUSTOMER failed")
    assert all(not j.message.startswith("Skipped") for j in by_mapping["ITEM-PRODUCT"])
    assert by_mapping["ITEM-PRODUCT"] and by_mapping["CURRENCY"]


def test_an_error_resolves_when_its_record_syncs(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    create_new_records(live.db, "CUSTOMER")
    server.set_fault("missing-privilege", entity="account", privilege="prvCreateAccount")
    server.state.bc_create("customers", {"displayName": "Needs Privilege", "type": "Company"})
    live.run(["CUSTOMER"])
    [error] = live_errors(live.db, Category.PERMISSIONS)
    server.clear_faults()
    live.run(["CUSTOMER"])
    live.run(["CUSTOMER"])
    assert live_errors(live.db, Category.PERMISSIONS) == []
    with Session(live.db) as session:
        resolved = session.get(SyncError, error.id)
    assert resolved is not None and resolved.status == ErrorStatus.RESOLVED
    assert names(server, "accounts")["Needs Privilege"] == 1


def test_a_contact_is_filed_under_its_own_customer_when_two_share_a_name(
    live: SyncEngine, server: SandboxServer
) -> None:
    first = server.state.bc_create("customers", {"displayName": "Same Name Ltd", "type": "Company"})
    server.state.bc_create("customers", {"displayName": "Same Name Ltd", "type": "Company"})
    # Business Central gave each customer its company contact; the person belongs to the first one's.
    relations = server.state.bc.rows("contactsInformation")
    [company] = [r for r in relations if r["relatedId"] == first["id"] and r["contactType"] == "Company"]
    server.state.bc_create(
        "contacts",
        {
            "displayName": "Eva Nováková",
            "type": "Person",
            "companyNumber": company["contactNumber"],
            "email": "eva@samename.example",
        },
    )
    live.run(full=True)
    assert names(server, "accounts")["Same Name Ltd"] == 2  # both customers got their account
    account_of_first = coupling_of_number(live.db, str(first["number"]))
    assert account_of_first is not None
    [eva] = [c for c in server.state.dv_rows("contacts") if c.get("emailaddress1") == "eva@samename.example"]
    assert eva["_parentcustomerid_value"] == account_of_first.dataverse_id


def test_a_contact_whose_company_has_no_customer_is_refused_in_business_centrals_words(
    live: SyncEngine, server: SandboxServer
) -> None:
    company = server.state.bc_create("contacts", {"displayName": "Prospect Co", "type": "Company"})
    server.state.bc_create(
        "contacts",
        {
            "displayName": "Ota Prospect",
            "type": "Person",
            "companyNumber": company["number"],
            "email": "o@p.example",
        },
    )
    live.run(full=True)
    assert "o@p.example" not in [c.get("emailaddress1") for c in server.state.dv_rows("contacts")]
    [error] = [e for e in live_errors(live.db, Category.VALIDATION) if e.mapping == "CONTACT"]
    assert "must have a contact company that has a business relation to a customer" in error.message


def test_a_contact_created_in_sales_arrives_under_its_customers_company(
    live: SyncEngine, server: SandboxServer
) -> None:
    live.run(full=True)
    with session_scope(live.db) as session:
        set_sync_only_coupled(session, name="CONTACT", only_coupled=False)
    customer = server.state.bc_rows("customers")[0]
    coupling = coupling_of_number(live.db, str(customer["number"]))
    assert coupling is not None
    server.state.dv_create(
        "contacts",
        {
            "firstname": "Nora",
            "lastname": "Sales",
            "emailaddress1": "nora@sales.example",
            "parentcustomerid_account@odata.bind": f"/accounts({coupling.dataverse_id})",
        },
    )
    live.run(["CONTACT"])
    [nora] = [c for c in server.state.bc_rows("contacts") if c.get("email") == "nora@sales.example"]
    relations = server.state.bc.rows("contactsInformation")
    [company] = [r for r in relations if r["relatedId"] == customer["id"] and r["contactType"] == "Company"]
    assert nora["type"] == "Person" and nora["companyNumber"] == company["contactNumber"]
    assert nora["companyName"] == customer["displayName"]


def test_restore_couples_a_record_a_person_already_recreated(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    customer = server.state.bc_rows("customers")[2]
    coupling = coupling_of_number(live.db, str(customer["number"]))
    assert coupling is not None
    account = server.state.dv_get("accounts", coupling.dataverse_id)
    assert account is not None
    server.state.dv_delete("accounts", coupling.dataverse_id)
    server.state.bc_update("customers", str(customer["id"]), {"city": "Praha"})
    live.run(["CUSTOMER"])
    [error] = live_errors(live.db, Category.DELETED_RECORD)
    # Before anyone clicks Restore, a salesperson re-creates the account by hand.
    again = server.state.dv_create(
        "accounts", {"name": account["name"], "accountnumber": customer["number"], "customertypecode": 3}
    )
    assert error.id is not None
    outcome = SyncActions(live).restore_record(error.id, actor="U1")
    assert outcome.ok, outcome.message
    assert names(server, "accounts")[str(account["name"])] == 1
    restored = coupling_of_number(live.db, str(customer["number"]))
    assert restored is not None and restored.dataverse_id == again["accountid"]


def test_setup_errors_resolve_once_the_cause_is_gone(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    server.set_fault("admin-integration-user")
    live.run()
    [admin] = live_errors(live.db, Category.ADMIN_INTEGRATION_USER)
    server.clear_faults()
    live.run()
    assert live_errors(live.db) == []  # the preflight passed: the administrator error resolved by itself
    with Session(live.db) as session:
        row = session.get(SyncError, admin.id)
    assert row is not None and row.status == ErrorStatus.RESOLVED and row.resolved_by == "sync-errors"
