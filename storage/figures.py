"""The store counts each metrics scrape reads: outbox and work queue by status, errors, jobs by mapping."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import ErrorStatus, Notification, SyncError, SyncJob, WorkItem


@dataclass(frozen=True)
class StoreFigures:
    """What /metrics reports about the store."""

    notifications: dict[str, int]
    work_items: dict[str, int]
    errors: dict[str, int]
    jobs: dict[str, int]  # by mapping
    failed_records: dict[str, int]  # by mapping, as the job log counts them


def store_figures(session: Session) -> StoreFigures:
    """Read every figure in one session."""
    notifications = {
        str(status): int(count)
        for status, count in session.exec(
            select(Notification.status, func.count()).group_by(Notification.status)
        ).all()
    }
    work = {
        str(status): int(count)
        for status, count in session.exec(
            select(WorkItem.status, func.count()).group_by(WorkItem.status)
        ).all()
    }
    errors = {
        status.value: int(
            session.exec(select(func.count()).select_from(SyncError).where(SyncError.status == status)).one()
        )
        for status in ErrorStatus
    }
    jobs: dict[str, int] = {}
    failed: dict[str, int] = {}
    for mapping, count, failures in session.exec(
        select(SyncJob.mapping, func.count(), func.coalesce(func.sum(SyncJob.failed), 0)).group_by(
            SyncJob.mapping
        )
    ).all():
        jobs[mapping], failed[mapping] = int(count), int(failures)
    return StoreFigures(notifications, work, errors, jobs, failed)
