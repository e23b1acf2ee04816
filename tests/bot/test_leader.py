"""Leader election: one scheduler per database (SQLite lock file; PostgreSQL advisory lock, hot standby)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from bot.leader import (
    APPLICATION_NAME,
    EXIT_LOST,
    EXIT_OK,
    EXIT_REFUSED,
    NotLeader,
    acquire_leadership,
    leadership,
    run_clock,
    whoami,
)
from bot.scheduler import build_scheduler
from storage.db import make_engine
from storage.models import AuditEntry
from tests.bot.jobs.builders import FakeEngine, settings_for

POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
needs_postgres = pytest.mark.skipif(not POSTGRES, reason="needs TEST_DATABASE_URL (PostgreSQL)")
WAIT = 30.0  # generous bound on waiting for another thread or process; never asserted on


class ClockThread:
    """run_clock on a thread, with events for "it leads" and its exit code."""

    def __init__(self, database_url: str, engine: Engine) -> None:
        self.stop = threading.Event()
        self.leading = threading.Event()
        self.scheduler: BaseScheduler | None = None
        self.code: int | None = None
        self._settings = settings_for(database_url)
        self._engine = engine
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _make(self) -> BaseScheduler:
        self.scheduler = build_scheduler(
            settings=self._settings, db=self._engine, sync=FakeEngine(self._engine), deliver=None, work=None
        )
        self.scheduler.add_listener(lambda _event: self.leading.set(), 2**0)  # EVENT_SCHEDULER_STARTED
        return self.scheduler

    def _run(self) -> None:
        self.code = run_clock(
            self._settings,
            make_scheduler=self._make,
            stop_event=self.stop,
            db=self._engine,
            poll_seconds=0.05,
            check_seconds=0.05,
        )

    def start(self) -> ClockThread:
        self._thread.start()
        return self

    def finish(self) -> int | None:
        self.stop.set()
        self._thread.join(WAIT)
        return self.code


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite store of its own (the lock-file tests run whatever TEST_DATABASE_URL says)."""
    url = f"sqlite:///{tmp_path / 'clock.db'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """An engine on `sqlite_url`."""
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clocks(database_url: str, engine: Engine) -> Iterator[Callable[[], ClockThread]]:
    started: list[ClockThread] = []

    def start() -> ClockThread:
        started.append(ClockThread(database_url, engine).start())
        return started[-1]

    yield start
    for clock in started:
        clock.finish()


def wait_until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for something another thread or process does."""
    done = threading.Event()
    for _ in range(int(WAIT / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError("gave up waiting")


# ---- SQLite ---------------------------------------------------------------------------------------


def test_a_second_scheduler_on_the_same_sqlite_file_is_refused(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    database = Path(str(engine.url.database)).resolve()
    with leadership(engine) as first:
        assert first is not None
        with pytest.raises(NotLeader) as refused:
            acquire_leadership(engine, wait=True)  # SQLite never waits
        assert str(refused.value) == (
            f"another sync-errors process is already scheduling jobs for {database}; only one may"
            f" (it is {whoami()})"
        )
    with leadership(engine) as again:  # released with the block
        assert again is not None


def test_clock_exits_2_when_another_process_schedules_on_sqlite(
    sqlite_url: str, sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    database_url, engine = sqlite_url, sqlite_engine
    made: list[BaseScheduler] = []
    with leadership(engine), caplog.at_level(logging.ERROR, logger="bot.leader"):
        code = run_clock(
            settings_for(database_url),
            make_scheduler=lambda: made.pop(),
            stop_event=threading.Event(),
            db=engine,
        )
    assert code == EXIT_REFUSED
    assert "only one may" in caplog.text


def test_another_process_is_refused_by_the_lock_file(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    database_url, engine = sqlite_url, sqlite_engine
    with leadership(engine):
        child = subprocess.run(
            [sys.executable, "-c", CHILD, database_url],
            capture_output=True,
            text=True,
            timeout=WAIT,
            env=_child_env(),
            cwd=tmp_path,
        )
    assert child.returncode == EXIT_REFUSED
    assert f"another sync-errors process is already scheduling jobs for {Path(str(engine.url.database))}" in (
        child.stderr
    )


def test_the_clock_leads_until_stopped_and_then_lets_go(
    engine: Engine, clocks: Callable[[], ClockThread]
) -> None:
    clock = clocks()
    assert clock.leading.wait(WAIT)
    assert clock.scheduler is not None and clock.scheduler.get_job("reconcile") is not None
    assert clock.finish() == EXIT_OK
    assert not clock.scheduler.running
    with leadership(engine) as next_leader:
        assert next_leader is not None


# ---- PostgreSQL -----------------------------------------------------------------------------------


@needs_postgres
def test_a_second_clock_waits_as_a_hot_standby_and_takes_over(
    engine: Engine, clocks: Callable[[], ClockThread], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.leader")
    leader = acquire_leadership(engine)
    assert leader is not None
    standby = clocks()
    wait_until(lambda: "waiting as a hot standby" in caplog.text)
    assert f"another clock is running ({whoami()}); waiting as a hot standby" in caplog.text
    assert not standby.leading.is_set()  # the lock is still held: it cannot lead
    leader.release()
    assert standby.leading.wait(WAIT)
    with pytest.raises(NotLeader, match=r"another clock is running \(pid"):
        acquire_leadership(engine)
    assert standby.finish() == EXIT_OK


@needs_postgres
def test_a_clock_whose_lock_connection_dies_stops_and_exits_1(
    engine: Engine, clocks: Callable[[], ClockThread]
) -> None:
    clock = clocks()
    assert clock.leading.wait(WAIT)
    with engine.connect() as connection:
        killed = connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE :name"),
            {"name": f"{APPLICATION_NAME} pid {os.getpid()} %"},
        ).all()
    assert killed == [(True,)]
    wait_until(lambda: clock.code is not None)
    assert clock.code == EXIT_LOST
    assert clock.scheduler is not None and not clock.scheduler.running


CHILD = r"""
import logging, os, sys, threading
from datetime import UTC, datetime
from apscheduler.events import EVENT_JOB_EXECUTED
from bot.leader import run_clock, stop_on_signals
from bot.config import Settings
from bot.scheduler import build_scheduler
from storage.audit import record_audit
from storage.db import make_engine, session_scope
from storage.models import Direction, Door, Mapping

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
settings = Settings(_env_file=None, database_url=sys.argv[1], slack_channel="C0123456789")
db = make_engine(settings.database_url)
me = str(os.getpid())

def note(action, target):
    with session_scope(db) as session:
        record_audit(session, actor=me, door=Door.SCHEDULE, action=action, target=target, result="ok")

def sync(names, trigger):
    note("sync", ",".join(names))

def probed(event):
    if event.job_id == "probe":
        note("probe", event.scheduled_run_time.isoformat())

def make():
    scheduler = build_scheduler(settings=settings, db=db, sync=sync, deliver=None, work=None)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    scheduler.add_job(lambda: None, "interval", seconds=1, start_date=start, id="probe")
    scheduler.add_listener(probed, EVENT_JOB_EXECUTED)
    return scheduler

stop = threading.Event()
stop_on_signals(stop)
code = run_clock(settings, make_scheduler=make, stop_event=stop, db=db, poll_seconds=0.1, check_seconds=0.2)
sys.exit(code)
"""


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}


def _probes(engine: Engine) -> list[tuple[str, str | None]]:
    with Session(engine) as session:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.action == "probe").order_by(col(AuditEntry.id))
        )
        return [(row.actor, row.target) for row in rows]


@needs_postgres
@pytest.mark.slow
def test_two_clock_processes_run_each_due_job_once_and_the_standby_takes_over(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    from tests.bot.jobs.builders import add_mapping

    add_mapping(engine, "CURRENCY", position=10)
    add_mapping(engine, "CUSTOMER", position=20, dependencies="CURRENCY")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, database_url],
            stderr=log.open("w"),
            env=_child_env(),
            cwd=tmp_path,
        )
        for log in logs
    ]
    try:
        wait_until(lambda: len(_probes(engine)) >= 3)
        leader_pid = _probes(engine)[0][0]
        leader = next(c for c in children if str(c.pid) == leader_pid)
        standby = next(c for c in children if c is not leader)
        standby_log = logs[children.index(standby)]
        wait_until(lambda: "waiting as a hot standby" in standby_log.read_text())
        leader.send_signal(signal.SIGKILL)
        leader.wait(WAIT)
        wait_until(lambda: any(pid == str(standby.pid) for pid, _ in _probes(engine)))
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(WAIT) == EXIT_OK
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(WAIT)

    probes = _probes(engine)
    slots = [slot for _, slot in probes]
    assert len(slots) == len(set(slots))  # no due run executed twice
    pids = [pid for pid, _ in probes]
    switch = pids.index(str(standby.pid))
    assert set(pids[:switch]) == {leader_pid} and set(pids[switch:]) == {str(standby.pid)}  # never both
    with Session(engine) as session:
        syncs = session.exec(
            select(AuditEntry.actor, AuditEntry.target).where(AuditEntry.action == "sync")
        ).all()
    assert syncs == [(leader_pid, "CURRENCY,CUSTOMER")]  # the due syncs ran once; the new leader knew
    standby_says = standby_log.read_text()
    assert f"another clock is running (pid {leader_pid} on " in standby_says
    assert "waiting as a hot standby" in standby_says
