"""The daily cleanup: error entries, job-log entries, old notifications and work older than RETENTION_DAYS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.audit import record_audit
from storage.db import session_scope
from storage.errors import purge_errors, purge_scope
from storage.jobs import delete_old_jobs
from storage.models import Direction, Door, JobType, NotificationKind, SyncJob, Trigger
from storage.outbox import delete_finished, enqueue
from storage.types import utcnow
from storage.work_queue import delete_finished_work

SCHEDULE_ACTOR = "schedule"
CLEANUP_MAPPING = "*"  # the cleanup's job-log entry is about every mapping


@dataclass(frozen=True)
class CleanupResult:
    """What one cleanup deleted and the line it posted (None when nothing was deleted)."""

    errors: int
    jobs: int
    job_id: str
    line: str | None


def clean_up(
    db: Engine, *, retention_days: int, channel: str | None, clock: Callable[[], datetime] = utcnow
) -> CleanupResult:
    """Delete error entries not seen for `retention_days` and older job-log entries; log, audit, tell.

    The last error of a Skipped coupling stays however old: it is what `list --skipped` shows.

    Job-log entries that open (or snoozed) errors still point at are kept; delivered notifications and
    finished work items of the same age go too, so neither table grows without end.
    """
    started = clock()
    cutoff = started - timedelta(days=retention_days)
    with Session(db) as session:
        # Entries not seen for the retention period; never a Skipped coupling's last error (its only trace).
        scope = purge_scope(session, cutoff=cutoff, keep_skipped=True)
    purged = purge_errors(db, scope=scope)
    age = f"older than {retention_days} day{'' if retention_days == 1 else 's'}"
    with session_scope(db) as session:
        jobs = delete_old_jobs(session, older_than=cutoff)
        notifications = delete_finished(session, older_than=cutoff)
        work = delete_finished_work(session, older_than=cutoff)
        errors = f"{purged.deleted} error {_entries(purged.deleted)}"
        summary = (
            f"deleted {errors}, {jobs} job-log {_entries(jobs)}, {notifications} delivered notifications "
            f"and {work} finished work items {age}"
        )
        job = SyncJob(
            mapping=CLEANUP_MAPPING,
            type=JobType.CLEANUP,
            direction=Direction.BIDIRECTIONAL,
            trigger=Trigger.SCHEDULE,
            started_at=started,
            finished_at=clock(),
            deleted=purged.deleted,
            message=summary[:250],
        )
        session.add(job)
        record_audit(
            session,
            actor=SCHEDULE_ACTOR,
            door=Door.SCHEDULE,
            action="cleanup",
            target="errors",
            result="ok",
            detail=summary,
        )
        line = None
        if purged.deleted:
            line = f"🧹 Deleted {purged.deleted:,} error {_entries(purged.deleted)} {age}."
            if channel:
                enqueue(session, kind=NotificationKind.TEXT, channel=channel, payload={"text": line})
        return CleanupResult(errors=purged.deleted, jobs=jobs, job_id=job.id, line=line)


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"
