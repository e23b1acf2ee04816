"""Fixtures of the sync tests: fake apps, an engine on the test store."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.sync.engine import SyncEngine
from tests.bot.sync.fakes import FakeClock, FakeDataverse, FakeStore, make_stores


@pytest.fixture
def clock() -> FakeClock:
    """The clock the fake apps and the engine share."""
    return FakeClock()


@pytest.fixture
def apps(clock: FakeClock) -> tuple[FakeStore, FakeDataverse]:
    """Empty Business Central and Dataverse fakes."""
    return make_stores(clock)


@pytest.fixture
def bc(apps: tuple[FakeStore, FakeDataverse]) -> FakeStore:
    """The Business Central fake."""
    return apps[0]


@pytest.fixture
def dv(apps: tuple[FakeStore, FakeDataverse]) -> FakeDataverse:
    """The Dataverse fake."""
    return apps[1]


@pytest.fixture
def sync(engine: Engine, bc: FakeStore, dv: FakeDataverse, clock: FakeClock) -> SyncEngine:
    """A sync engine on the fakes that notifies channel C1."""
    return SyncEngine(db=engine, bc=bc, dataverse=dv, channel="C1", clock=clock, page_size=2)
