"""The sync engine against the in-memory fakes: full and incremental runs, counters, couplings, errors."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.sync.engine import SyncEngine
from storage.models import Coupling, Direction, JobType, Mapping, SyncError, SyncJob
from tests.bot.sync.fakes import FakeDataverse, FakeStore, seed_basics


def counters(job: SyncJob) -> dict[str, int]:
    """The BC counters of a job that are not zero."""
    names = ("inserted", "modified", "deleted", "unchanged", "skipped", "failed", "coupled", "uncoupled")
    return {name: getattr(job, name) for name in names if getattr(job, name)}


def writes(job: SyncJob) -> dict[str, int]:
    """The counters that are not zero, leaving out `unchanged` (the watermark overlap re-reads the newest)."""
    return {name: value for name, value in counters(job).items() if name != "unchanged"}


def by_key(jobs: list[SyncJob]) -> dict[tuple[str, str, str], SyncJob]:
    """Jobs by (mapping, direction, type)."""
    return {(j.mapping, str(j.direction), str(j.type)): j for j in jobs}


def errors(engine: Engine) -> list[SyncError]:
    """Every error entry."""
    with Session(engine) as session:
        return list(session.exec(select(SyncError).order_by(SyncError.id)).all())


def test_full_sync_creates_and_couples_everything(sync: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> None:
    seed_basics(bc, dv, customers=3)
    jobs = by_key(sync.run(full=True))
    assert counters(jobs[("SALESPEOPLE", "from_dataverse", "coupling")]) == {"coupled": 1}
    assert counters(jobs[("SALESPEOPLE", "from_dataverse", "sync")]) == {"unchanged": 1}  # same values
    assert counters(jobs[("CURRENCY", "to_dataverse", "sync")]) == {"inserted": 2}
    assert counters(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"inserted": 3}
    assert counters(jobs[("CUSTOMER", "from_dataverse", "sync")]) == {}
    assert counters(jobs[("CONTACT", "to_dataverse", "sync")]) == {"inserted": 3}
    accounts = {a.fields["accountnumber"]: a for a in dv.rows("accounts")}
    eur = dv.find("transactioncurrencies", isocurrencycode="EUR")[0]
    assert accounts["20000"].fields["_transactioncurrencyid_value"] == eur.id
    assert "_transactioncurrencyid_value" not in accounts["10000"].fields  # blank = local currency
    owner = dv.find("systemusers", internalemailaddress="jo@example.com")[0]
    assert accounts["10000"].fields["_ownerid_value"] == owner.id
    assert eur.fields["exchangerate"] == 1.25
    contact = dv.find("contacts", emailaddress1="p1@example.com")[0]
    assert (contact.fields["firstname"], contact.fields["lastname"]) == ("Anna Maria", "Person1")
    assert contact.fields["_parentcustomerid_value"] == accounts["20000"].id
    assert errors(sync.db) == []


def test_incremental_run_with_nothing_changed_reads_once_per_side(
    sync: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    seed_basics(bc, dv)
    sync.run(full=True)
    sync.run()  # reads back the engine's own writes once
    bc.requests = dv.requests = 0
    jobs = sync.run(["CUSTOMER"])
    assert all(set(counters(j)) <= {"unchanged"} for j in jobs)  # the watermark overlap re-reads the newest
    assert bc.requests == 1
    assert dv.requests == 1 + 2  # the changes query + WhoAmI and the user's roles


def test_incremental_run_carries_edits_both_ways(sync: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> None:
    seed_basics(bc, dv)
    sync.run(full=True)
    customer = bc.find("customers", number="10000")[0]
    bc.edit("customers", customer.id, displayName="Renamed in BC", blocked="All")
    account = dv.find("accounts", accountnumber="20000")[0]
    dv.edit("accounts", account.id, telephone1="+420 111")
    jobs = by_key(sync.run(["CUSTOMER"]))
    assert writes(jobs[("CUSTOMER", "to_dataverse", "sync")]) == {"modified": 1}
    assert writes(jobs[("CUSTOMER", "from_dataverse", "sync")]) == {"modified": 1}
    renamed = dv.find("accounts", accountnumber="10000")[0].fields
    assert (renamed["name"], renamed["statecode"]) == ("Renamed in BC", 1)
    assert bc.find("customers", number="20000")[0].fields["phoneNumber"] == "+420 111"
    again = sync.run(["CUSTOMER"])
    assert all(set(counters(j)) <= {"unchanged"} for j in again)


def test_changes_made_by_the_integration_user_are_not_synced_back(
    sync: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    seed_basics(bc, dv)
    sync.run(full=True)
    account = dv.find("accounts", accountnumber="10000")[0]
    dv.put("accounts", {"id": account.id, "name": "Edited as the integration user"}, by=dv.actor)
    sync.run(["CUSTOMER"])
    assert bc.find("customers", number="10000")[0].fields["displayName"] == "Customer 0"


def test_seeding_is_idempotent_and_in_dependency_order(sync: SyncEngine) -> None:
    names = [m.name for m in sync.mappings()]
    assert names == ["SALESPEOPLE", "CURRENCY", "CUSTOMER", "CONTACT", "ITEM-PRODUCT"]
    assert [m.name for m in sync.mappings(["contact", "CURRENCY"])] == ["CURRENCY", "CONTACT"]
    with Session(sync.db) as session:
        rows = {m.name: m for m in session.exec(select(Mapping)).all()}
    assert len(rows) == 5
    assert all(row.sync_only_coupled for row in rows.values())  # Business Central's defaults
    assert rows["CUSTOMER"].direction == Direction.BIDIRECTIONAL
    assert rows["CUSTOMER"].dependency_names() == ["CURRENCY", "SALESPEOPLE"]


def test_unknown_mapping_names_the_known_ones(sync: SyncEngine) -> None:
    import pytest

    with pytest.raises(ValueError, match="Unknown mapping NOPE; known mappings: CONTACT, CURRENCY"):
        sync.run(["nope"])


def test_watermarks_advance_and_jobs_are_logged(sync: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> None:
    seed_basics(bc, dv)
    sync.run(full=True)
    with Session(sync.db) as session:
        customer = session.exec(select(Mapping).where(Mapping.name == "CUSTOMER")).one()
        assert customer.bc_watermark is not None and customer.last_run_at is not None
        assert len(session.exec(select(Coupling).where(Coupling.mapping == "CUSTOMER")).all()) == 3
        kinds = {j.type for j in session.exec(select(SyncJob)).all()}
        assert kinds == {JobType.SYNC, JobType.COUPLING}
        assert all(j.finished_at is not None for j in session.exec(select(SyncJob)).all())
