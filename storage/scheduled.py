"""Queries on the scheduled jobs' reports: write what the scheduler runs, read it, pause and resume."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from storage.models import ScheduledJob
from storage.types import utcnow

RESULT_CHARS = 300


@dataclass(frozen=True)
class JobReport:
    """What the scheduler knows about one job right now."""

    id: str
    description: str
    every_seconds: int | None
    cron: str | None
    next_run_at: datetime | None
    last_run_at: datetime | None = None
    last_result: str | None = None


def report_jobs(session: Session, reports: Iterable[JobReport], *, now: datetime | None = None) -> None:
    """Write the scheduler's view of its jobs (keeping each row's pause switch and older last results)."""
    at = now or utcnow()
    for report in reports:
        row = session.get(ScheduledJob, report.id) or ScheduledJob(id=report.id)
        row.description = report.description[:200]
        row.every_seconds = report.every_seconds
        row.cron = report.cron
        row.next_run_at = report.next_run_at
        if report.last_run_at is not None:
            row.last_run_at = report.last_run_at
            row.last_result = (report.last_result or "")[:RESULT_CHARS] or None
        row.reported_at = at
        session.add(row)


def record_run(session: Session, job_id: str, *, at: datetime, result: str) -> None:
    """Note one run of a job (by the scheduler or by `sync-errors run JOB`)."""
    row = session.get(ScheduledJob, job_id) or ScheduledJob(id=job_id)
    row.last_run_at = at
    row.last_result = result[:RESULT_CHARS]
    session.add(row)


def scheduled_jobs(session: Session) -> dict[str, ScheduledJob]:
    """Every reported job by id."""
    return {row.id: row for row in session.exec(select(ScheduledJob)).all()}


def set_job_paused(session: Session, job_id: str, *, paused: bool) -> bool:
    """Set a job's pause switch; return whether it was already so."""
    row = session.get(ScheduledJob, job_id) or ScheduledJob(id=job_id)
    already = row.paused == paused
    row.paused = paused
    session.add(row)
    return already


def paused_job_ids(session: Session) -> set[str]:
    """The ids whose pause switch is on."""
    return set(session.exec(select(ScheduledJob.id).where(ScheduledJob.paused == True)).all())  # noqa: E712
