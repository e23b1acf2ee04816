"""Builders shared by the scheduler's tests: mapping rows, a fake engine, settings, firing jobs by hand."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from storage.db import session_scope
from storage.models import Direction, Mapping, Notification, NotificationKind, SyncJob, Trigger
from storage.types import utcnow

CHANNEL = "C0123456789"


def settings_for(database_url: str, **overrides: Any) -> Settings:
    """Settings on the test store with a channel; keyword arguments override."""
    values: dict[str, Any] = {"database_url": database_url, "slack_channel": CHANNEL}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def add_mapping(db: Engine, name: str, **overrides: Any) -> Mapping:
    """Store one mapping row (CUSTOMER-like defaults)."""
    values: dict[str, Any] = {
        "name": name,
        "bc_table": name.lower(),
        "dataverse_table": name.lower(),
        "direction": Direction.TO_DATAVERSE,
    }
    values.update(overrides)
    with session_scope(db) as session:
        mapping = Mapping(**values)
        session.add(mapping)
        session.flush()
        return mapping


def get_mapping(db: Engine, name: str) -> Mapping:
    """Read one mapping row back."""
    with Session(db) as session:
        row = session.exec(select(Mapping).where(Mapping.name == name)).one()
        session.expunge(row)
        return row


def texts(db: Engine) -> list[str]:
    """The text of every TEXT notification in the outbox, oldest first."""
    with Session(db) as session:
        rows = session.exec(
            select(Notification).where(Notification.kind == NotificationKind.TEXT).order_by(Notification.id)  # type: ignore[arg-type]
        ).all()
        return [str(row.payload["text"]) for row in rows]


@dataclass
class FakeEngine:
    """Stands for SyncEngine.run: records the calls and writes one finished SyncJob per mapping."""

    db: Engine
    counters: dict[str, dict[str, Any]] = field(default_factory=dict)  # mapping -> SyncJob fields
    raises: Exception | None = None
    calls: list[list[str]] = field(default_factory=list)
    on_call: Callable[[list[str]], None] | None = None

    def __call__(self, names: Sequence[str], trigger: Trigger) -> list[SyncJob]:
        assert trigger is Trigger.SCHEDULE
        self.calls.append(list(names))
        if self.on_call is not None:
            self.on_call(list(names))
        if self.raises is not None:
            raise self.raises
        jobs = []
        with session_scope(self.db) as session:
            for name in names:
                values: dict[str, Any] = {"unchanged": 1, "finished_at": utcnow()}
                values.update(self.counters.get(name, {}))
                job = SyncJob(mapping=name, direction=Direction.TO_DATAVERSE, trigger=trigger, **values)
                session.add(job)
                jobs.append(job)
        return jobs


def fire(scheduler: BaseScheduler, job_id: str) -> object:
    """Run a job's function in this thread, as the scheduler would when it is due."""
    job = scheduler.get_job(job_id)
    assert job is not None, f"no job {job_id}"
    return job.func(*job.args, **job.kwargs)


def next_run(scheduler: BaseScheduler, job_id: str) -> datetime | None:
    """A job's next run time (None: paused)."""
    job = scheduler.get_job(job_id)
    assert job is not None, f"no job {job_id}"
    value: datetime | None = job.next_run_time
    return value
