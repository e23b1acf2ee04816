"""The daily cleanup: exactly the expired error and job-log entries go; one line in the channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.jobs.cleanup import CLEANUP_MAPPING, clean_up
from storage.db import session_scope
from storage.models import (
    AuditEntry,
    Door,
    ErrorStatus,
    JobType,
    Notification,
    SyncError,
    SyncJob,
    WorkItem,
    WorkStatus,
)
from storage.types import utcnow
from tests.bot.jobs.builders import CHANNEL, texts
from tests.factories import make_error, make_job

NOW = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)


def _ids(session: Session, model: type[SyncError] | type[SyncJob]) -> set[object]:
    return set(session.exec(select(model.id)).all())  # type: ignore[call-overload]


@pytest.mark.time_machine(NOW, tick=False)
def test_cleanup_deletes_exactly_the_expired_entries_and_posts_one_line(
    engine: Engine, session: Session
) -> None:
    old_job = make_job(session, started_at=NOW - timedelta(days=8))
    kept_job = make_job(session, started_at=NOW - timedelta(days=9))  # a live error still points at it
    recent_job = make_job(session, started_at=NOW - timedelta(days=6))
    expired = [
        make_error(session, created_at=NOW - timedelta(days=8), job_id=old_job.id),
        make_error(session, created_at=NOW - timedelta(days=8, hours=1), status=ErrorStatus.RESOLVED),
    ]
    recent = [
        make_error(session, created_at=NOW - timedelta(days=6), job_id=kept_job.id),
        make_error(session, created_at=NOW - timedelta(days=6, hours=23), job_id=recent_job.id),
    ]
    session.commit()

    result = clean_up(engine, retention_days=7, channel=CHANNEL)

    session.expire_all()
    assert (result.errors, result.jobs) == (len(expired), 1)
    assert _ids(session, SyncError) == {error.id for error in recent}
    assert _ids(session, SyncJob) == {kept_job.id, recent_job.id, result.job_id}
    log = session.get(SyncJob, result.job_id)
    assert log is not None
    assert (log.type, log.mapping, log.deleted) == (JobType.CLEANUP, CLEANUP_MAPPING, 2)
    assert (
        log.message == "deleted 2 error entries, 1 job-log entry, 0 delivered notifications "
        "and 0 finished work items older than 7 days"
    )
    audit = session.exec(select(AuditEntry)).one()
    assert (audit.actor, audit.door, audit.action, audit.result) == (
        "schedule",
        Door.SCHEDULE,
        "cleanup",
        "ok",
    )
    assert texts(engine) == ["🧹 Deleted 2 error entries older than 7 days."]
    assert session.exec(select(Notification.channel)).all() == [CHANNEL]


@pytest.mark.time_machine(NOW, tick=False)
def test_a_cleanup_with_nothing_to_delete_is_logged_but_not_posted(engine: Engine, session: Session) -> None:
    make_error(session, created_at=NOW - timedelta(days=6, hours=23, minutes=59))
    session.commit()
    result = clean_up(engine, retention_days=7, channel=CHANNEL)
    assert (result.errors, result.line) == (0, None)
    assert texts(engine) == []
    assert session.exec(select(SyncJob).where(col(SyncJob.type) == JobType.CLEANUP)).one().deleted == 0


@pytest.mark.time_machine(NOW, tick=False)
def test_large_counts_are_grouped_and_one_entry_is_singular(engine: Engine, session: Session) -> None:
    make_error(session, created_at=NOW - timedelta(days=2))
    session.commit()
    result = clean_up(engine, retention_days=1, channel=None)
    assert result.line == "🧹 Deleted 1 error entry older than 1 day."
    assert texts(engine) == []  # no channel configured: nothing queued


def test_cleanup_also_deletes_old_finished_work_items(engine: Engine) -> None:
    old = utcnow() - timedelta(days=9)
    with session_scope(engine) as session:
        session.add(WorkItem(kind="resync", status=WorkStatus.DONE, finished_at=old, door=Door.SLACK))
        session.add(WorkItem(kind="resync", status=WorkStatus.FAILED, finished_at=old, door=Door.SLACK))
        session.add(WorkItem(kind="resync", status=WorkStatus.QUEUED, door=Door.SLACK, created_at=old))
        session.add(WorkItem(kind="resync", status=WorkStatus.DONE, finished_at=utcnow(), door=Door.SLACK))
    clean_up(engine, retention_days=7, channel=None)
    with Session(engine) as session:
        left = sorted(str(item.status) for item in session.exec(select(WorkItem)).all())
    assert left == ["done", "queued"]
