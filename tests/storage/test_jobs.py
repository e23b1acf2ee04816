"""Job log and mapping queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from bot.sync.mappings import seed_default_mappings
from storage.jobs import finish_job, get_job, latest_jobs, list_jobs, previous_job, start_job
from storage.mappings import (
    advance_watermarks,
    get_mapping,
    list_mappings,
    record_run,
    reset_watermarks,
    set_interval,
    set_paused,
)
from storage.models import Direction, JobType

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_start_finish_latest_and_list(session: Session) -> None:
    first = start_job(session, mapping="CUSTOMER", direction=Direction.TO_DATAVERSE, now=T0)
    finish_job(session, job=first, message="x" * 300, now=T0 + timedelta(seconds=5))
    second = start_job(
        session, mapping="CUSTOMER", direction=Direction.TO_DATAVERSE, now=T0 + timedelta(minutes=1)
    )
    start_job(session, mapping="CUSTOMER", direction=Direction.TO_DATAVERSE, type=JobType.COUPLING, now=T0)
    session.commit()
    assert len(first.message) == 250
    assert [j.id for j in latest_jobs(session)] == [second.id]
    assert len(list_jobs(session, mapping="CUSTOMER")) == 3
    assert previous_job(session, mapping="CUSTOMER", direction=Direction.TO_DATAVERSE, before=second) == first
    assert get_job(session, job_id=second.id) == second


def test_mappings_settings_and_watermarks(session: Session) -> None:
    seed_default_mappings(session)
    seed_default_mappings(session)
    session.commit()
    assert [m.name for m in list_mappings(session)][:3] == ["SALESPEOPLE", "CURRENCY", "CUSTOMER"]
    set_paused(session, name="currency", paused=True)
    set_interval(session, name="CUSTOMER", minutes=15)
    with pytest.raises(ValueError):
        set_interval(session, name="CUSTOMER", minutes=0)
    with pytest.raises(LookupError):
        set_paused(session, name="NOPE", paused=True)
    assert "CURRENCY" not in [m.name for m in list_mappings(session, enabled_only=True)]
    advance_watermarks(session, name="CUSTOMER", bc=T0, dataverse=T0)
    advance_watermarks(session, name="CUSTOMER", bc=T0 - timedelta(days=1))
    record_run(session, name="CUSTOMER", at=T0)
    session.commit()
    customer = get_mapping(session, name="customer")
    assert customer is not None
    assert customer.bc_watermark == T0 and customer.interval_minutes == 15 and customer.last_run_at == T0
    reset_watermarks(session, name="CUSTOMER")
    assert customer.bc_watermark is None
