"""The nightly Find for Deleted job: runs the engine's scan, audits what it found (door schedule)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.jobs.find_deleted import engine_find_deleted, find_deleted_nightly, summary_line
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from bot.services import Services
from storage.models import AuditEntry, Category, Direction, Door, SyncError, SyncJob, Trigger
from storage.types import utcnow
from tests.bot.jobs.builders import settings_for


def audits(engine: Engine) -> list[AuditEntry]:
    """The find-deleted audit entries, oldest first."""
    with Session(engine) as session:
        query = select(AuditEntry).where(AuditEntry.action == "find_deleted").order_by(AuditEntry.id)  # type: ignore[arg-type]
        return list(session.exec(query).all())


def job(mapping: str, message: str, **counters: int) -> SyncJob:
    """A finished find-deleted job."""
    return SyncJob(
        mapping=mapping, direction=Direction.TO_DATAVERSE, message=message, finished_at=utcnow(), **counters
    )


def test_nothing_found_is_one_ok_audit_entry(engine: Engine) -> None:
    detail = find_deleted_nightly(
        engine, find=lambda _trigger: [job("CUSTOMER", "Find deleted: no deleted record among 3 couplings.")]
    )
    assert detail == "0 coupled records deleted in 1 mapping(s)"
    [entry] = audits(engine)
    assert (entry.actor, entry.door, entry.target, entry.result) == (
        "schedule",
        Door.SCHEDULE,
        "couplings",
        "ok",
    )


def test_a_stopped_run_is_audited_as_failed_with_its_reason() -> None:
    jobs = [job("SALESPEOPLE", "Principal user is missing prvReadAccount privilege.", failed=1)]
    assert summary_line(jobs) == (
        "0 coupled records deleted in 1 mapping(s): SALESPEOPLE: deleted 0, restored 0, uncoupled 0, "
        "failed 1; stopped: Principal user is missing prvReadAccount privilege."
    )


def test_a_failed_job_makes_a_failed_audit_entry(engine: Engine) -> None:
    find_deleted_nightly(engine, find=lambda _trigger: [job("CUSTOMER", "The sign-in failed.", failed=1)])
    assert [entry.result for entry in audits(engine)] == ["failed"]


def test_an_exception_is_audited_and_raised(engine: Engine) -> None:
    def broken(_trigger: Trigger) -> list[SyncJob]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        find_deleted_nightly(engine, find=broken)
    [entry] = audits(engine)
    assert (entry.result, entry.detail) == ("failed", "RuntimeError: boom")


def test_not_configured_says_so_once_and_audits_nothing(
    database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    find = engine_find_deleted(settings_for(database_url), engine)
    with caplog.at_level(logging.ERROR, logger="bot.jobs.find_deleted"):
        assert find_deleted_nightly(engine, find=find) is None
        assert find_deleted_nightly(engine, find=find) is None
    assert [r.getMessage().startswith("find deleted cannot run") for r in caplog.records] == [True]
    assert audits(engine) == []


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A small sandbox."""
    server = SandboxServer(port=0, records=6, seed=3).start()
    yield server
    server.stop()


def test_the_default_runs_on_an_engine_built_from_the_settings(
    database_url: str, engine: Engine, sandbox: SandboxServer
) -> None:
    settings = settings_for(
        database_url,
        bc_api_url=sandbox.bc_api_url,
        bc_web_url=sandbox.bc_web_url,
        dataverse_url=sandbox.dataverse_url,
        auth_token_url=sandbox.token_url,
        azure_client_id=SANDBOX_CLIENT_ID,
        azure_client_secret=SANDBOX_CLIENT_SECRET,
    )
    services = Services(settings=settings, db=engine)
    try:
        services.sync_engine().run(full=True)
    finally:
        services.connectors.close()
    customer = sandbox.state.bc_rows("customers")[0]
    sandbox.state.bc_delete("customers", str(customer["id"]))
    detail = find_deleted_nightly(engine, find=engine_find_deleted(settings, engine))
    assert detail is not None and detail.startswith("1 coupled record deleted in ")
    with Session(engine) as session:
        [error] = session.exec(select(SyncError)).all()
    assert error.category == Category.DELETED_RECORD
    [entry] = audits(engine)
    assert entry.result == "ok"
