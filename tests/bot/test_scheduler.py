"""The scheduler: jobs built from the mappings, batches in dependency order, live changes, health lines."""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import scheduler as sched
from bot.jobs.cleanup import CLEANUP_MAPPING
from bot.operations import schedule as ops
from bot.operations.base import Actor
from bot.scheduler import build_scheduler, next_runs, scheduler_state, sync_job_id
from storage.db import session_scope
from storage.models import AuditEntry, Direction, Door, JobType, SyncJob, Trigger
from tests.bot.jobs.builders import (
    FakeEngine,
    add_mapping,
    fire,
    get_mapping,
    next_run,
    settings_for,
    texts,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor(id="U0ADMIN", door=Door.TERMINAL, is_admin=True)


@pytest.fixture
def clock(time_machine: time_machine.TimeMachineFixture) -> Iterator[time_machine.TimeMachineFixture]:
    """Time frozen at T0 (shift it to move on)."""
    time_machine.move_to(T0, tick=False)
    yield time_machine


_built: list[BaseScheduler] = []


@pytest.fixture(autouse=True)
def _shut_down() -> Iterator[None]:
    yield
    while _built:
        scheduler = _built.pop()
        if scheduler.running:
            scheduler.shutdown(wait=True)


def build(
    database_url: str, engine: Engine, fake: FakeEngine, *, start: bool = True, **kwargs: object
) -> BaseScheduler:
    """A scheduler on the test store; started paused (jobs scheduled, nothing runs by itself) unless told."""
    scheduler = build_scheduler(
        settings=settings_for(database_url),
        db=engine,
        sync=fake,
        deliver=kwargs.pop("deliver", None),  # type: ignore[arg-type]
        work=kwargs.pop("work", None),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    _built.append(scheduler)
    if start:
        scheduler.start(paused=True)
    return scheduler


@pytest.mark.usefixtures("clock")
def test_jobs_are_built_from_the_mappings(database_url: str, engine: Engine) -> None:
    add_mapping(engine, "CURRENCY", position=10)
    add_mapping(engine, "CUSTOMER", position=20, interval_minutes=15, last_run_at=T0 - timedelta(minutes=5))
    add_mapping(engine, "CONTACT", position=30, paused=True)
    add_mapping(engine, "ITEM-PRODUCT", position=40, enabled=False)
    add_mapping(engine, "SALESPEOPLE", position=50, last_run_at=T0 - timedelta(days=3))
    scheduler = build(database_url, engine, FakeEngine(engine))
    assert isinstance(scheduler, BackgroundScheduler)
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {
        "sync:CURRENCY",
        "sync:CUSTOMER",
        "sync:CONTACT",
        "sync:SALESPEOPLE",
        sched.CLEANUP_JOB,
        sched.FIND_DELETED_JOB,
        sched.SUMMARY_JOB,
        sched.SNOOZE_JOB,
        sched.RECONCILE_JOB,
    }
    currency, customer = scheduler.get_job("sync:CURRENCY"), scheduler.get_job("sync:CUSTOMER")
    assert isinstance(currency.trigger, IntervalTrigger)
    assert currency.trigger.interval == timedelta(minutes=30)  # SYNC_INTERVAL_MINUTES
    assert customer.trigger.interval == timedelta(minutes=15)
    assert customer.name == "CUSTOMER - Dataverse synchronization job."
    assert next_run(scheduler, "sync:CURRENCY") == T0  # never ran: at once
    assert next_run(scheduler, "sync:CUSTOMER") == T0 + timedelta(minutes=10)  # last run + interval
    assert next_run(scheduler, "sync:SALESPEOPLE") == T0  # overdue after downtime: at once
    assert next_run(scheduler, "sync:CONTACT") is None  # paused
    for job in (currency, customer):
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert job.misfire_grace_time == sched.SYNC_GRACE_SECONDS
    cleanup = scheduler.get_job(sched.CLEANUP_JOB)
    assert isinstance(cleanup.trigger, CronTrigger)
    assert next_run(scheduler, sched.CLEANUP_JOB) == T0 + sched.CLEANUP_CATCH_UP  # never cleaned: soon
    assert next_run(scheduler, sched.SUMMARY_JOB) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert next_run(scheduler, sched.FIND_DELETED_JOB) == datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    assert scheduler.get_job(sched.FIND_DELETED_JOB).misfire_grace_time == sched.DAILY_GRACE_SECONDS
    assert next_run(scheduler, sched.SNOOZE_JOB) == T0 + timedelta(minutes=1)
    assert next_runs(scheduler_state(scheduler))["CUSTOMER"] == T0 + timedelta(minutes=10)


@pytest.mark.usefixtures("clock")
def test_outbox_and_work_loops_run_every_few_seconds_when_given(database_url: str, engine: Engine) -> None:
    calls: list[str] = []
    scheduler = build(
        database_url,
        engine,
        FakeEngine(engine),
        deliver=lambda: calls.append("deliver"),
        work=lambda: calls.append("work"),
        blocking=True,
        start=False,
    )
    assert isinstance(scheduler, BlockingScheduler)
    for job_id in (sched.DELIVER_JOB, sched.WORK_JOB):
        trigger = scheduler.get_job(job_id).trigger
        assert isinstance(trigger, IntervalTrigger) and trigger.interval <= timedelta(seconds=5)
        fire(scheduler, job_id)
    assert calls == ["deliver", "work"]


@pytest.mark.usefixtures("clock")
def test_find_deleted_runs_nightly_through_the_given_function_and_is_audited(
    database_url: str, engine: Engine
) -> None:
    triggers: list[Trigger] = []

    def find(trigger: Trigger) -> list[SyncJob]:
        triggers.append(trigger)
        job = SyncJob(
            mapping="CUSTOMER",
            direction=Direction.BIDIRECTIONAL,
            trigger=trigger,
            deleted=2,
            failed=1,
            uncoupled=1,
            finished_at=T0,
            message="Find deleted: 2 of 9 couplings point at a deleted record.",
        )
        return [job]

    scheduler = build(database_url, engine, FakeEngine(engine), find_deleted=find)
    assert isinstance(scheduler.get_job(sched.FIND_DELETED_JOB).trigger, CronTrigger)
    detail = fire(scheduler, sched.FIND_DELETED_JOB)
    assert triggers == [Trigger.SCHEDULE]
    assert (
        detail
        == "2 coupled records deleted in 1 mapping(s): CUSTOMER: deleted 2, restored 0, uncoupled 1, failed 1"
    )
    with Session(engine) as session:
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "find_deleted")).all()
    assert (entry.actor, entry.door, entry.result, entry.detail) == ("schedule", Door.SCHEDULE, "ok", detail)


@pytest.mark.usefixtures("clock")
def test_a_recent_cleanup_is_not_caught_up(database_url: str, engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(
            SyncJob(
                mapping=CLEANUP_MAPPING,
                type=JobType.CLEANUP,
                direction="bidirectional",  # type: ignore[arg-type]
                started_at=T0 - timedelta(hours=7),
                finished_at=T0 - timedelta(hours=7),
            )
        )
    scheduler = build(database_url, engine, FakeEngine(engine))
    assert next_run(scheduler, sched.CLEANUP_JOB) == datetime(2026, 3, 3, 2, 30, tzinfo=UTC)


@pytest.mark.usefixtures("clock")
def test_due_mappings_run_together_in_dependency_order(database_url: str, engine: Engine) -> None:
    # Positions disagree with the dependencies on purpose: dependencies win.
    add_mapping(engine, "CUSTOMER", position=10, dependencies="CURRENCY,SALESPEOPLE")
    add_mapping(engine, "CURRENCY", position=20)
    add_mapping(engine, "SALESPEOPLE", position=30)
    add_mapping(engine, "CONTACT", position=40, dependencies="CUSTOMER")
    fake = FakeEngine(engine)
    scheduler = build(database_url, engine, fake)
    # The thread pool may start the dependent's job first: it takes its due dependencies along.
    assert fire(scheduler, "sync:CONTACT") == ["CURRENCY", "SALESPEOPLE", "CUSTOMER", "CONTACT"]
    for name in ("CURRENCY", "CUSTOMER", "SALESPEOPLE"):
        assert fire(scheduler, sync_job_id(name)) == []  # already run in this tick
    assert fake.calls == [["CURRENCY", "SALESPEOPLE", "CUSTOMER", "CONTACT"]]
    assert get_mapping(engine, "CUSTOMER").last_run_at == T0


def test_a_dependency_that_is_not_due_is_not_run_early(
    database_url: str, engine: Engine, clock: time_machine.TimeMachineFixture
) -> None:
    add_mapping(engine, "CURRENCY", position=10, interval_minutes=60, last_run_at=T0 - timedelta(minutes=30))
    add_mapping(engine, "CUSTOMER", position=20, dependencies="CURRENCY")
    add_mapping(engine, "CONTACT", position=30, paused=True)
    fake = FakeEngine(engine)
    scheduler = build(database_url, engine, fake)
    fire(scheduler, "sync:CUSTOMER")  # 09:00: CURRENCY is due at 09:30 only
    clock.shift(timedelta(minutes=30))
    fire(scheduler, "sync:CUSTOMER")  # 09:30: both due
    clock.shift(timedelta(minutes=30))
    fire(scheduler, "sync:CUSTOMER")  # 10:00: CURRENCY waits for 10:30
    assert fake.calls == [["CUSTOMER"], ["CURRENCY", "CUSTOMER"], ["CUSTOMER"]]


def test_the_running_scheduler_runs_each_due_batch_once(
    database_url: str, engine: Engine, clock: time_machine.TimeMachineFixture
) -> None:
    add_mapping(engine, "CUSTOMER", position=20, dependencies="CURRENCY")
    add_mapping(engine, "CURRENCY", position=10)
    fake = FakeEngine(engine)
    scheduler = build(database_url, engine, fake, start=False)
    finished: queue.Queue[str] = queue.Queue()

    def listener(event: JobExecutionEvent) -> None:
        if event.job_id.startswith("sync:"):
            finished.put(
                event.job_id if event.exception is None else f"{event.job_id} raised {event.exception!r}"
            )

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    assert sorted(finished.get(timeout=10) for _ in range(2)) == ["sync:CURRENCY", "sync:CUSTOMER"]
    assert fake.calls == [["CURRENCY", "CUSTOMER"]]
    assert next_run(scheduler, "sync:CUSTOMER") == T0 + timedelta(minutes=30)
    clock.shift(timedelta(minutes=30))
    scheduler.wakeup()
    assert sorted(finished.get(timeout=10) for _ in range(2)) == ["sync:CURRENCY", "sync:CUSTOMER"]
    assert fake.calls == [["CURRENCY", "CUSTOMER"]] * 2


def test_pause_resume_and_interval_take_effect_live_and_survive_a_restart(
    database_url: str, engine: Engine, clock: time_machine.TimeMachineFixture
) -> None:
    add_mapping(engine, "CUSTOMER", last_run_at=T0 - timedelta(minutes=10))
    add_mapping(engine, "CONTACT", last_run_at=T0 - timedelta(minutes=10))
    fake = FakeEngine(engine)
    scheduler = build(database_url, engine, fake)
    assert next_run(scheduler, "sync:CUSTOMER") == T0 + timedelta(minutes=20)
    ops.pause(engine, "customer", ADMIN)
    ops.set_interval(engine, "CONTACT", timedelta(hours=2), ADMIN)
    assert next_run(scheduler, "sync:CUSTOMER") is not None  # not before the reconcile job runs
    changes = fire(scheduler, sched.RECONCILE_JOB)
    assert isinstance(changes, list) and sorted(changes) == [
        "paused sync:CUSTOMER every 30 min",
        "scheduled sync:CONTACT every 120 min",
    ]
    assert next_run(scheduler, "sync:CUSTOMER") is None
    assert scheduler.get_job("sync:CONTACT").trigger.interval == timedelta(hours=2)
    assert next_run(scheduler, "sync:CONTACT") == T0 + timedelta(minutes=110)
    assert fire(scheduler, sched.RECONCILE_JOB) == []  # nothing changed since
    scheduler.shutdown(wait=True)

    restarted = build(database_url, engine, fake)
    assert next_run(restarted, "sync:CUSTOMER") is None
    assert next_run(restarted, "sync:CONTACT") == T0 + timedelta(minutes=110)
    clock.shift(timedelta(hours=1))
    ops.resume(engine, "CUSTOMER", ADMIN)
    fire(restarted, sched.RECONCILE_JOB)
    assert next_run(restarted, "sync:CUSTOMER") == T0 + timedelta(hours=1)  # overdue: at once
    fire(restarted, "sync:CUSTOMER")
    assert fake.calls == [["CUSTOMER"]]
    assert next_run(restarted, "sync:CUSTOMER") == T0 + timedelta(hours=1, minutes=30)


@pytest.mark.usefixtures("clock")
def test_new_disabled_and_deleted_mappings_are_reconciled(database_url: str, engine: Engine) -> None:
    add_mapping(engine, "CUSTOMER")
    scheduler = build(database_url, engine, FakeEngine(engine))
    add_mapping(engine, "VENDOR")
    with session_scope(engine) as session:
        customer = get_mapping(engine, "CUSTOMER")
        customer.enabled = False
        session.add(customer)
    assert fire(scheduler, sched.RECONCILE_JOB) == [
        "removed sync:CUSTOMER",
        "scheduled sync:VENDOR every 30 min",
    ]
    assert scheduler.get_job("sync:CUSTOMER") is None


def test_three_failed_runs_alert_once_and_the_first_success_recovers_once(
    database_url: str, engine: Engine, clock: time_machine.TimeMachineFixture
) -> None:
    add_mapping(engine, "CUSTOMER", interval_minutes=10)
    fake = FakeEngine(engine)
    fake.counters["CUSTOMER"] = {
        "failed": 4,
        "unchanged": 9,
        "message": "The integration user's password expired.",
    }
    scheduler = build(database_url, engine, fake)
    for _ in range(5):
        fire(scheduler, "sync:CUSTOMER")
        clock.shift(timedelta(minutes=10))
    assert texts(engine) == [
        "⚠️ CUSTOMER has failed 3 runs in a row: The integration user's password expired. "
        "See /sync-errors list --mapping CUSTOMER"
    ]
    assert get_mapping(engine, "CUSTOMER").consecutive_failures == 5
    fake.counters["CUSTOMER"] = {"failed": 1, "modified": 3}  # wrote something: a successful run
    for _ in range(2):
        fire(scheduler, "sync:CUSTOMER")
        clock.shift(timedelta(minutes=10))
    assert texts(engine)[1:] == ["✅ CUSTOMER is syncing again: its last run succeeded."]
    customer = get_mapping(engine, "CUSTOMER")
    assert (customer.consecutive_failures, customer.health_alerted) == (0, False)


@pytest.mark.usefixtures("clock")
def test_an_engine_that_raises_counts_as_a_failed_run(database_url: str, engine: Engine) -> None:
    add_mapping(engine, "CURRENCY", position=10)
    add_mapping(engine, "CUSTOMER", position=20, consecutive_failures=2)
    fake = FakeEngine(engine, raises=RuntimeError("Dataverse is unreachable"))
    scheduler = build(database_url, engine, fake)
    fire(scheduler, "sync:CUSTOMER")
    assert texts(engine) == [
        "⚠️ CUSTOMER has failed 3 runs in a row: Dataverse is unreachable. "
        "See /sync-errors list --mapping CUSTOMER"
    ]
    assert get_mapping(engine, "CURRENCY").consecutive_failures == 1
    assert get_mapping(engine, "CUSTOMER").last_run_at == T0  # the schedule moves on all the same
    assert next_run(scheduler, "sync:CUSTOMER") == T0 + timedelta(minutes=30)


@pytest.mark.usefixtures("clock")
def test_busy_skips_are_quiet_for_the_frequent_loops_only(
    database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    add_mapping(engine, "CUSTOMER")
    scheduler = build(database_url, engine, FakeEngine(engine), deliver=lambda: None, work=lambda: None)
    logger = logging.getLogger("apscheduler.scheduler")
    with caplog.at_level(logging.WARNING, logger="apscheduler.scheduler"):
        for job_id in (sched.DELIVER_JOB, sched.WORK_JOB, "sync:CUSTOMER"):
            logger.warning(
                'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
                scheduler.get_job(job_id),
                1,
            )
    logged = [record.args[0] for record in caplog.records if isinstance(record.args, tuple)]
    assert [getattr(job, "id", None) for job in logged] == ["sync:CUSTOMER"]


def test_a_job_firing_during_a_batch_returns_at_once_and_the_batch_looks_again(
    database_url: str, engine: Engine, clock: time_machine.TimeMachineFixture
) -> None:
    add_mapping(engine, "CUSTOMER", position=10)
    add_mapping(
        engine, "CONTACT", position=20, last_run_at=T0 - timedelta(minutes=29, seconds=40)
    )  # due 09:00:20
    fake = FakeEngine(engine)
    scheduler = build(database_url, engine, fake)
    during: list[object] = []

    def meanwhile(names: list[str]) -> None:
        if names == ["CUSTOMER"]:
            clock.shift(timedelta(seconds=30))
            during.append(fire(scheduler, "sync:CONTACT"))  # the batch holds the runner: no wait, no run

    fake.on_call = meanwhile
    assert fire(scheduler, "sync:CUSTOMER") == ["CUSTOMER", "CONTACT"]
    assert during == [[]]
    assert fake.calls == [["CUSTOMER"], ["CONTACT"]]
