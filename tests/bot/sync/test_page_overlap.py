"""Pages overlap with a thread-safe destination client: the next page is decided while one is written."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session

from bot.connectors.errors import Throttled
from bot.connectors.models import Record
from bot.sync.engine import SyncEngine
from bot.sync.passes import DirectionPass
from storage.couplings import pending_couplings
from tests.bot.sync.fakes import FakeDataverse, FakeStore, create_new_records, seed_basics


@pytest.fixture
def synced(sync: SyncEngine, bc: FakeStore, dv: FakeDataverse) -> SyncEngine:
    """The engine after a full run of the basic seed, with Dataverse's client taking several threads."""
    seed_basics(bc, dv)
    sync.run(full=True)
    create_new_records(sync.db)
    sync.run()
    dv.thread_safe = True  # type: ignore[attr-defined]
    return sync


def _new_customers(bc: FakeStore, count: int) -> None:
    for n in range(count):
        bc.put("customers", {"number": f"9000{n}", "displayName": f"Overlap {n}"})


def test_next_page_is_decided_while_the_previous_page_is_written(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse, monkeypatch: pytest.MonkeyPatch
) -> None:
    _new_customers(bc, 5)  # pages of 2: three pages
    prepared: list[int] = []
    next_page_decided = threading.Condition()
    overlapped: list[bool] = []
    original = DirectionPass._prepare

    def prepare(self: DirectionPass, records: list[Record], *, keep_seen: bool) -> object:
        page = original(self, records, keep_seen=keep_seen)
        with next_page_decided:
            prepared.append(len(records))
            next_page_decided.notify_all()
        return page

    def while_written(calls: int) -> None:
        # Inside the batch, on the sender thread: the engine decides the next page meanwhile.
        with next_page_decided:
            overlapped.append(next_page_decided.wait_for(lambda: len(prepared) > calls, timeout=5))

    monkeypatch.setattr(DirectionPass, "_prepare", prepare)
    dv.batch_calls = 0
    dv.after_batch = while_written
    synced.run(["CUSTOMER"])
    dv.after_batch = None
    assert overlapped[:2] == [True, True]  # pages 2 and 3 were decided while pages 1 and 2 were written
    names = sorted(a.fields["name"] for a in dv.rows("accounts") if a.fields["name"].startswith("Overlap"))
    assert names == [f"Overlap {n}" for n in range(5)]


def test_a_throttled_page_leaves_nothing_reserved_that_was_not_sent(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    _new_customers(bc, 5)
    dv.batch_error = Throttled(
        message="Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
        status=429,
        code="0x80072322",
        system="dataverse",
        retry_after=30,
    )
    [job] = synced.run(["CUSTOMER"])
    assert job.message
    with Session(synced.db) as session:
        reserved = {c.name for c in pending_couplings(session, mapping="CUSTOMER")}
    assert reserved <= {"Overlap 0", "Overlap 1"}  # the first page's; the next page was decided, not reserved
    synced.run(["CUSTOMER"])
    names = sorted(a.fields["name"] for a in dv.rows("accounts") if a.fields["name"].startswith("Overlap"))
    assert names == [f"Overlap {n}" for n in range(5)]


def test_an_interrupted_run_with_pages_overlapping_resumes_without_duplicates(
    synced: SyncEngine, bc: FakeStore, dv: FakeDataverse
) -> None:
    _new_customers(bc, 5)

    def boom(_calls: int) -> None:
        raise RuntimeError("power cut")

    dv.after_batch = boom
    with pytest.raises(RuntimeError):
        synced.run(["CUSTOMER"])  # the first page's writes happened; the next page was only decided
    dv.after_batch = None
    synced.run(["CUSTOMER"])
    synced.run(["CUSTOMER"])
    names = sorted(a.fields["name"] for a in dv.rows("accounts") if a.fields["name"].startswith("Overlap"))
    assert names == [f"Overlap {n}" for n in range(5)]
