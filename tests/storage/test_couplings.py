"""Coupling queries: find by either side, re-point, skipped and failed lists, retry, synced versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from storage.couplings import (
    by_bc_ids,
    by_bc_keys,
    clear_skipped,
    failed_not_skipped,
    find_by_record_id,
    get_by_bc,
    get_by_dataverse,
    list_skipped,
    mark_synced,
    note_version,
    uncouple,
    upsert_coupling,
)
from storage.models import Direction, SyncResult, System

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def couple(session: Session, n: int, **state: object) -> None:
    """Couple customer n to account n, with extra state."""
    coupling = upsert_coupling(
        session,
        mapping="CUSTOMER",
        bc_table="customers",
        bc_id=f"bc-{n}",
        dataverse_table="accounts",
        dataverse_id=f"dv-{n}",
        bc_key=str(n),
        name=f"Name {n}",
    )
    for key, value in state.items():
        setattr(coupling, key, value)
    session.add(coupling)
    session.commit()


def test_find_by_either_side_and_key(session: Session) -> None:
    couple(session, 1)
    assert get_by_bc(session, table="customers", record_id="bc-1") is not None
    assert get_by_dataverse(session, table="accounts", record_id="dv-1") is not None
    assert set(by_bc_ids(session, table="customers", ids=["bc-1", "bc-2"])) == {"bc-1"}
    assert set(by_bc_keys(session, mapping="CUSTOMER", keys=["1"])) == {"1"}
    assert len(find_by_record_id(session, record_id="dv-1")) == 1


def test_repointing_resets_the_sync_state(session: Session) -> None:
    couple(
        session,
        1,
        skipped=True,
        failure_count=2,
        last_result_to_dataverse=SyncResult.FAILURE,
        bc_etag='W/"1"',
        dataverse_etag='W/"2"',
        last_synced_bc_modified_at=NOW,
    )
    coupling = upsert_coupling(
        session,
        mapping="CUSTOMER",
        bc_table="customers",
        bc_id="bc-1",
        dataverse_table="accounts",
        dataverse_id="dv-9",
    )
    assert coupling.dataverse_id == "dv-9" and not coupling.skipped and coupling.failure_count == 0
    assert coupling.bc_key == "1"
    assert (coupling.bc_etag, coupling.dataverse_etag, coupling.last_synced_bc_modified_at) == (
        None,
        None,
        None,
    )


def test_skipped_failed_and_retry(session: Session) -> None:
    couple(session, 1, skipped=True, last_result_to_dataverse=SyncResult.FAILURE)
    couple(session, 2, last_result_to_dataverse=SyncResult.FAILURE)
    couple(session, 3, last_result_from_dataverse=SyncResult.FAILURE)
    assert [c.bc_id for c in list_skipped(session)] == ["bc-1"]
    assert [
        c.bc_id for c in failed_not_skipped(session, mapping="CUSTOMER", direction=Direction.TO_DATAVERSE)
    ] == ["bc-2"]
    assert [
        c.bc_id for c in failed_not_skipped(session, mapping="CUSTOMER", direction=Direction.FROM_DATAVERSE)
    ] == ["bc-3"]
    assert clear_skipped(session, mapping="CUSTOMER") == 1
    session.commit()
    assert list_skipped(session) == []


def test_uncouple(session: Session) -> None:
    couple(session, 1)
    coupling = get_by_bc(session, table="customers", record_id="bc-1")
    assert coupling is not None
    uncouple(session, coupling=coupling)
    session.commit()
    assert get_by_bc(session, table="customers", record_id="bc-1") is None


def test_mark_synced_keeps_both_sides_etags_and_modified_on(session: Session) -> None:
    couple(session, 1)
    coupling = get_by_bc(session, table="customers", record_id="bc-1")
    assert coupling is not None
    mark_synced(
        session,
        coupling=coupling,
        direction=Direction.TO_DATAVERSE,
        job_id="job-1",
        bc_modified_at=NOW,
        dataverse_modified_at=NOW + timedelta(seconds=1),
        bc_etag='W/"JzE5OzEn"',
        dataverse_etag='W/"1000001"',
    )
    session.commit()
    session.expire_all()
    stored = get_by_bc(session, table="customers", record_id="bc-1")
    assert stored is not None
    assert (stored.bc_etag, stored.dataverse_etag) == ('W/"JzE5OzEn"', 'W/"1000001"')
    assert stored.last_synced_dataverse_modified_at == NOW + timedelta(seconds=1)
    assert stored.last_result_to_dataverse == SyncResult.SUCCESS


def test_a_side_without_modified_on_keeps_its_version_and_one_without_etag_forgets_it(
    session: Session,
) -> None:
    couple(session, 1, bc_etag='W/"1"', last_synced_bc_modified_at=NOW, dataverse_etag='W/"7"')
    coupling = get_by_bc(session, table="customers", record_id="bc-1")
    assert coupling is not None
    mark_synced(
        session,
        coupling=coupling,
        direction=Direction.FROM_DATAVERSE,
        job_id=None,
        bc_modified_at=None,
        dataverse_modified_at=NOW,
        bc_etag='W/"ignored"',
    )
    assert (coupling.bc_etag, coupling.last_synced_bc_modified_at) == ('W/"1"', NOW)
    assert (coupling.dataverse_etag, coupling.last_synced_dataverse_modified_at) == (None, NOW)


def test_an_etag_longer_than_the_column_is_not_kept(session: Session) -> None:
    couple(session, 1)
    coupling = get_by_bc(session, table="customers", record_id="bc-1")
    assert coupling is not None
    note_version(coupling, system=System.DATAVERSE, modified_at=NOW, etag="W/" + "x" * 120)
    note_version(coupling, system=System.BUSINESS_CENTRAL, modified_at=NOW, etag='W/"ok"')
    session.add(coupling)
    session.commit()
    assert (coupling.dataverse_etag, coupling.last_synced_dataverse_modified_at) == (None, NOW)
    assert coupling.bc_etag == 'W/"ok"'
