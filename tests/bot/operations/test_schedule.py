"""Schedule operations from Slack and the terminal: list, interval, pause, resume, run now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.operations import schedule as ops
from bot.operations.base import Actor, InvalidInput, NotAllowed
from bot.operations.requests import AlreadyQueued, Queued
from storage.models import AuditEntry, Door, WorkItem
from tests.bot.jobs.builders import add_mapping, get_mapping
from tests.factories import make_job

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor(id="U0ADMIN", door=Door.SLACK, is_admin=True)
MEMBER = Actor(id="U0MEMBER", door=Door.SLACK, is_admin=False)


@pytest.fixture
def mappings(engine: Engine) -> None:
    add_mapping(engine, "CURRENCY", position=10, last_run_at=NOW - timedelta(minutes=10))
    add_mapping(engine, "CUSTOMER", position=20, interval_minutes=15, last_run_at=NOW - timedelta(hours=1))
    add_mapping(engine, "CONTACT", position=30, paused=True)
    add_mapping(engine, "ITEM-PRODUCT", position=40, enabled=False)


def _audit(session: Session) -> list[tuple[str, str, str | None, str, str]]:
    rows = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
    return [(a.actor, a.action, a.target, a.result, a.detail) for a in rows]


@pytest.mark.usefixtures("mappings")
@pytest.mark.time_machine(NOW, tick=False)
def test_the_schedule_lists_every_mapping_with_its_next_run(engine: Engine, session: Session) -> None:
    make_job(session, mapping="CURRENCY", modified=1)
    make_job(
        session, mapping="CUSTOMER", failed=2, message="Principal user is missing prvWriteAccount privilege."
    )
    session.commit()
    entries = ops.list_schedule(engine, default_minutes=30)
    assert [(e.id, e.interval_minutes, e.paused, e.enabled, e.next_run_at) for e in entries] == [
        ("sync:CURRENCY", 30, False, True, NOW + timedelta(minutes=20)),
        ("sync:CUSTOMER", 15, False, True, NOW),  # overdue: at once
        ("sync:CONTACT", 30, True, True, None),
        ("sync:ITEM-PRODUCT", 30, False, False, None),
    ]
    assert [e.last_result for e in entries] == [
        "ok",
        "failed: Principal user is missing prvWriteAccount privilege.",
        None,
        None,
    ]
    live = ops.list_schedule(engine, {"sync:CURRENCY": NOW + timedelta(seconds=5)})
    assert live[0].next_run_at == NOW + timedelta(seconds=5)


@pytest.mark.usefixtures("mappings")
def test_an_admin_changes_the_interval(engine: Engine, session: Session) -> None:
    ops.set_interval(engine, "customer", timedelta(hours=2), ADMIN)
    assert get_mapping(engine, "CUSTOMER").interval_minutes == 120
    ops.set_interval(engine, "CURRENCY", timedelta(minutes=1), ADMIN)
    ops.set_interval(engine, "CURRENCY", timedelta(days=7), ADMIN)
    assert _audit(session)[0] == ("U0ADMIN", "schedule", "CUSTOMER", "ok", "every 2 hours (was 15 minutes)")
    assert _audit(session)[1][4] == "every 1 minute (was the default)"


@pytest.mark.usefixtures("mappings")
@pytest.mark.parametrize(
    ("every", "says"),
    [
        (timedelta(seconds=30), "between 1 minute and 7 days; 30 seconds is too short"),
        (timedelta(days=7, minutes=1), "between 1 minute and 7 days; 10081 minutes is too long"),
        (timedelta(seconds=90), "whole minutes (e.g. 15m, 2h, 1d); 90 seconds is not"),
    ],
)
def test_intervals_out_of_range_are_refused_clearly(engine: Engine, every: timedelta, says: str) -> None:
    with pytest.raises(InvalidInput, match=says.replace("(", r"\(").replace(")", r"\)")):
        ops.set_interval(engine, "CUSTOMER", every, ADMIN)
    assert get_mapping(engine, "CUSTOMER").interval_minutes == 15


@pytest.mark.usefixtures("mappings")
def test_an_unknown_mapping_lists_the_known_ones(engine: Engine) -> None:
    known = "Known mappings: CURRENCY, CUSTOMER, CONTACT, ITEM-PRODUCT."
    for call in (
        lambda: ops.pause(engine, "CUSTOMERS", ADMIN),
        lambda: ops.resume(engine, "CUSTOMERS", ADMIN),
        lambda: ops.set_interval(engine, "CUSTOMERS", timedelta(hours=1), ADMIN),
        lambda: ops.run_now(engine, "CUSTOMERS", ADMIN),
    ):
        with pytest.raises(InvalidInput, match=f"There is no mapping named 'CUSTOMERS'. {known}"):
            call()


@pytest.mark.usefixtures("mappings")
def test_only_admins_change_schedules_and_refusals_are_audited(engine: Engine, session: Session) -> None:
    for call in (
        lambda: ops.pause(engine, "CUSTOMER", MEMBER),
        lambda: ops.resume(engine, "CUSTOMER", MEMBER),
        lambda: ops.set_interval(engine, "CUSTOMER", timedelta(hours=1), MEMBER),
        lambda: ops.run_now(engine, "CUSTOMER", MEMBER),
    ):
        with pytest.raises(NotAllowed, match="Only sync admins may"):
            call()
    assert [(action, result) for _, action, _, result, _ in _audit(session)] == [
        ("pause", "refused"),
        ("resume", "refused"),
        ("schedule", "refused"),
        ("run", "refused"),
    ]
    customer = get_mapping(engine, "CUSTOMER")
    assert (customer.paused, customer.interval_minutes) == (False, 15)
    assert session.exec(select(WorkItem)).all() == []


@pytest.mark.usefixtures("mappings")
def test_pause_and_resume_are_stored_and_audited(engine: Engine, session: Session) -> None:
    ops.pause(engine, "CUSTOMER", ADMIN)
    assert get_mapping(engine, "CUSTOMER").paused
    ops.pause(engine, "CUSTOMER", ADMIN)
    ops.resume(engine, "CUSTOMER", ADMIN)
    assert not get_mapping(engine, "CUSTOMER").paused
    assert [(action, target, detail) for _, action, target, _, detail in _audit(session)] == [
        ("pause", "CUSTOMER", ""),
        ("pause", "CUSTOMER", "already paused"),
        ("resume", "CUSTOMER", ""),
    ]


@pytest.mark.usefixtures("mappings")
def test_run_now_queues_one_sync_for_the_worker(engine: Engine, session: Session) -> None:
    first = ops.run_now(engine, "contact", ADMIN, response_url="https://hooks.slack.com/x")
    assert isinstance(first, Queued)
    again = ops.run_now(engine, "CONTACT", ADMIN)
    assert isinstance(again, AlreadyQueued) and again.item_id == first.item_id
    item = session.exec(select(WorkItem)).one()
    assert (item.kind, item.payload["mappings"], item.requested_by, item.door) == (
        "run",
        ["CONTACT"],
        "U0ADMIN",
        Door.SLACK,
    )
    assert item.response_url == "https://hooks.slack.com/x"
    assert ("U0ADMIN", "run", "CONTACT", "queued", "") in _audit(session)
