"""Queries on the synchronization job log: start and finish jobs, latest per mapping, jobs for status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, func
from sqlmodel import Session, col, select

from storage.models import LIVE_ERROR_STATUSES, Direction, JobType, SyncError, SyncJob, Trigger
from storage.types import utcnow

MAX_MESSAGE = 250


def start_job(
    session: Session,
    *,
    mapping: str,
    direction: Direction,
    type: JobType = JobType.SYNC,
    trigger: Trigger = Trigger.SCHEDULE,
    now: datetime | None = None,
) -> SyncJob:
    """Add a running job (no finish time yet) and return it."""
    job = SyncJob(
        mapping=mapping, direction=direction, type=type, trigger=trigger, started_at=now or utcnow()
    )
    session.add(job)
    session.flush()
    return job


def finish_job(
    session: Session, *, job: SyncJob, message: str | None = None, now: datetime | None = None
) -> SyncJob:
    """Stamp a job's finish time and, when given, its message (cut to 250 characters)."""
    job.finished_at = now or utcnow()
    if message is not None:
        job.message = message[:MAX_MESSAGE]
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, *, job_id: str) -> SyncJob | None:
    """Return one job by id, or None."""
    return session.get(SyncJob, job_id)


def sync_jobs_since(
    session: Session, *, since: datetime, mappings: Sequence[str] | None = None, finished_only: bool = False
) -> list[SyncJob]:
    """Sync jobs started at or after `since` (of `mappings`, when given), oldest first."""
    query = select(SyncJob).where(SyncJob.type == JobType.SYNC, col(SyncJob.started_at) >= since)
    if mappings is not None:
        query = query.where(col(SyncJob.mapping).in_(mappings))
    if finished_only:
        query = query.where(col(SyncJob.finished_at).is_not(None))
    return list(session.exec(query.order_by(col(SyncJob.started_at), col(SyncJob.id))).all())


def last_started(session: Session, *, type: JobType) -> datetime | None:
    """When the newest job of one type started (None: none in the log)."""
    return session.exec(
        select(SyncJob.started_at)
        .where(SyncJob.type == type)
        .order_by(col(SyncJob.started_at).desc())
        .limit(1)
    ).first()


def count_jobs(session: Session) -> int:
    """How many entries the job log holds."""
    return int(session.exec(select(func.count()).select_from(SyncJob)).one())


def delete_old_jobs(session: Session, *, older_than: datetime) -> int:
    """Delete job-log entries started before `older_than` that no open or snoozed error points at."""
    live_error = exists(
        select(SyncError.id).where(
            SyncError.job_id == SyncJob.id, col(SyncError.status).in_(LIVE_ERROR_STATUSES)
        )
    )
    result = session.exec(delete(SyncJob).where(col(SyncJob.started_at) < older_than, ~live_error))
    return int(result.rowcount or 0)


def latest_jobs(session: Session, *, type: JobType | None = JobType.SYNC) -> list[SyncJob]:
    """Return the most recent job of each mapping and direction (of one type; None: any type), by mapping."""
    newest = select(SyncJob.mapping, SyncJob.direction, func.max(SyncJob.started_at).label("started_at"))
    if type is not None:
        newest = newest.where(SyncJob.type == type)
    latest = newest.group_by(SyncJob.mapping, SyncJob.direction).subquery()
    query = select(SyncJob).join(
        latest,
        (col(SyncJob.mapping) == latest.c.mapping)
        & (col(SyncJob.direction) == latest.c.direction)
        & (col(SyncJob.started_at) == latest.c.started_at),
    )
    if type is not None:
        query = query.where(SyncJob.type == type)
    rows = list(session.exec(query).all())
    return sorted(rows, key=lambda job: (job.mapping, job.direction, job.id))


def list_jobs(
    session: Session,
    *,
    mapping: str | None = None,
    type: JobType | None = None,
    limit: int = 50,
) -> list[SyncJob]:
    """Return jobs newest first, optionally of one mapping and type."""
    query = select(SyncJob)
    if mapping is not None:
        query = query.where(SyncJob.mapping == mapping)
    if type is not None:
        query = query.where(SyncJob.type == type)
    query = query.order_by(col(SyncJob.started_at).desc(), col(SyncJob.id)).limit(limit)
    return list(session.exec(query).all())


def previous_job(
    session: Session, *, mapping: str, direction: Direction, before: SyncJob, type: JobType = JobType.SYNC
) -> SyncJob | None:
    """Return the job of a mapping and direction that started last before `before`, or None."""
    query = (
        select(SyncJob)
        .where(
            SyncJob.mapping == mapping,
            SyncJob.direction == direction,
            SyncJob.type == type,
            SyncJob.id != before.id,
            col(SyncJob.started_at) <= before.started_at,
        )
        .order_by(col(SyncJob.started_at).desc())
        .limit(1)
    )
    return session.exec(query).first()


def unfinished_jobs(session: Session, *, mapping: str, before: SyncJob | None = None) -> list[SyncJob]:
    """A mapping's jobs without a finish time (their run was killed), oldest first, except `before`."""
    query = select(SyncJob).where(SyncJob.mapping == mapping, col(SyncJob.finished_at).is_(None))
    if before is not None:
        query = query.where(SyncJob.id != before.id)
    return list(session.exec(query.order_by(col(SyncJob.started_at))).all())


def earliest_interrupted_start(
    session: Session, *, mapping: str, direction: Direction, before: SyncJob, interrupted: str
) -> datetime | None:
    """When the oldest run of an unbroken row of interrupted runs before `before` started, or None.

    Every run of that row may have written rows it never recorded, however many were interrupted.
    """
    query = (
        select(SyncJob)
        .where(
            SyncJob.mapping == mapping,
            SyncJob.direction == direction,
            SyncJob.type == JobType.SYNC,
            SyncJob.id != before.id,
            col(SyncJob.started_at) <= before.started_at,
        )
        .order_by(col(SyncJob.started_at).desc())
        .limit(200)
    )
    earliest: datetime | None = None
    for job in session.exec(query).all():
        if job.finished_at is not None and not job.message.startswith(interrupted):
            break
        earliest = job.started_at
    return earliest
