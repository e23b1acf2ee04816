"""Property: random edits on both sides converge after two runs, also all in one second."""

from __future__ import annotations

import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, select

from bot.sync.engine import SyncEngine
from bot.sync.mappings import CUSTOMER
from bot.sync.project import differences
from storage.db import make_engine
from storage.models import Mapping, UpdateConflictResolution
from tests.bot.sync.fakes import FrozenClock, make_stores, seed_basics

NAMES = st.sampled_from(["Alpha", "Beta", "Gamma", "Delta", ""])
CITIES = st.sampled_from(["Praha", "Brno", "Ostrava", ""])
EDIT = st.tuples(
    st.sampled_from(["bc", "dv"]),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(["name", "city", "blocked", "new"]),
    NAMES,
    CITIES,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(EDIT, max_size=12),
    winner=st.sampled_from(list(UpdateConflictResolution)[1:]),
    frozen=st.booleans(),
)
def test_random_edits_converge(
    tmp_path: Path, edits: list[tuple[str, int, str, str, str]], winner: str, frozen: bool
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/prop-{uuid.uuid4().hex}.db")  # a fresh store per example
    SQLModel.metadata.create_all(engine)
    bc, dv = make_stores(FrozenClock() if frozen else None)  # frozen: every write in the same second
    sync = SyncEngine(db=engine, bc=bc, dataverse=dv, channel=None, clock=bc.clock, page_size=3)
    seed_basics(bc, dv, customers=4)
    sync.run(full=True)
    with Session(engine) as session:
        row = session.exec(select(Mapping).where(Mapping.name == "CUSTOMER")).one()
        row.update_conflict = UpdateConflictResolution(winner)
        row.sync_only_coupled = False  # new records on either side get a partner
        session.add(row)
        session.commit()
    for side, index, what, name, city in edits:
        if side == "bc":
            customers = sorted(bc.rows("customers"), key=lambda r: r.id)
            if what == "new":
                bc.put(
                    "customers",
                    {"number": f"9{len(customers)}000", "displayName": name or "New", "city": city},
                )
                continue
            target = customers[index % len(customers)]
            change = {"name": {"displayName": name}, "city": {"city": city}, "blocked": {"blocked": "All"}}[
                what
            ]
            bc.edit("customers", target.id, **change)
        else:
            accounts = sorted(dv.rows("accounts"), key=lambda r: r.id)
            if what == "new":
                dv.put("accounts", {"name": name or "New DV", "address1_city": city})
                continue
            target = accounts[index % len(accounts)]
            change = {"name": {"name": name}, "city": {"address1_city": city}, "blocked": {"statecode": 1}}[
                what
            ]
            dv.edit("accounts", target.id, **change)
    sync.run(["CUSTOMER"])
    sync.run(["CUSTOMER"])
    customers = {r.id: r for r in bc.rows("customers")}
    accounts = {r.id: r for r in dv.rows("accounts")}
    with Session(engine) as session:
        from storage.models import Category, Coupling, ErrorStatus, SyncError

        couplings = session.exec(select(Coupling).where(Coupling.mapping == "CUSTOMER")).all()
        waiting = session.exec(
            select(SyncError).where(
                SyncError.category == Category.SEVERAL_MATCHES, SyncError.status == ErrorStatus.OPEN
            )
        ).all()
    # Every record has its partner, except those waiting for a person to choose among several matches.
    held = {e.source_id for e in waiting} | {c["id"] for e in waiting for c in e.facts["candidates"]}
    outside = {i for i, a in accounts.items() if a.fields.get("statecode") == 1 and i not in held}
    coupled_ids = {c.dataverse_id for c in couplings}
    held |= outside - coupled_ids  # an inactive account outside CUSTOMER's filter is never given a partner
    coupled = {c.bc_id for c in couplings} | {c.dataverse_id for c in couplings}
    assert set(customers) | set(accounts) <= coupled | held
    assert len(couplings) == len(set(customers) - held) == len(set(accounts) - held)
    for coupling in couplings:
        customer, account = customers[coupling.bc_id], accounts[coupling.dataverse_id]
        if account.fields.get("statecode") == 1:
            continue  # an inactive account is outside CUSTOMER's integration table filter: it no longer syncs
        assert (
            differences(
                CUSTOMER,
                CUSTOMER.direction.TO_DATAVERSE,
                customer.fields,
                [],
                account.fields,
                bidirectional_only=True,
            )
            == []
        )
    engine.dispose()
