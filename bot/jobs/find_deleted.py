"""The nightly Find for Deleted: couplings whose record was deleted on one side (or both), every mapping.

The engine records what it finds through the error log (the Slack messages go out through the outbox);
this job runs it, and writes one audit entry (door schedule) with what the jobs said.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.jobs.cleanup import SCHEDULE_ACTOR
from bot.services import Services
from bot.sync.deleted import MESSAGE_PREFIX
from storage.audit import record_audit
from storage.db import session_scope
from storage.models import Door, SyncJob, Trigger

FIND_DELETED_ACTION = "find_deleted"
FIND_DELETED_TARGET = "couplings"

FindDeletedFn = Callable[[Trigger], Sequence[SyncJob] | None]

log = logging.getLogger(__name__)


def find_deleted_nightly(db: Engine, *, find: FindDeletedFn) -> str | None:
    """Run Find for Deleted on every enabled mapping and audit it; return the detail (None: did not run)."""
    try:
        jobs = find(Trigger.SCHEDULE)
    except Exception as error:
        _audit(db, result="failed", detail=f"{type(error).__name__}: {error}")
        raise
    if jobs is None:
        return None
    detail = summary_line(jobs)
    failed = any(job.finished_at is None or _stopped(job) for job in jobs)
    _audit(db, result="failed" if failed else "ok", detail=detail)
    return detail


def summary_line(jobs: Sequence[SyncJob]) -> str:
    """What the jobs found, in one line: per mapping, the broken couplings and what became of them."""
    if not jobs:
        return "no mapping to look at (all disabled or paused)"
    found = sum(job.deleted for job in jobs)
    parts = [
        f"{job.mapping}: deleted {job.deleted}, restored {job.inserted}, uncoupled {job.uncoupled}, "
        f"failed {job.failed}"
        for job in jobs
        if job.deleted or job.failed
    ]
    head = f"{found} coupled record{'' if found == 1 else 's'} deleted in {len(jobs)} mapping(s)"
    stopped = [job for job in jobs if _stopped(job)]
    tail = f"; stopped: {stopped[0].message}" if stopped else ""
    return (head + (": " + "; ".join(parts) if parts else "") + tail)[:2000]


def _stopped(job: SyncJob) -> bool:
    """A job ended by a job-level failure (sign-in, admin user, throttling) instead of running to its end."""
    return not job.message.startswith(MESSAGE_PREFIX)


def _audit(db: Engine, *, result: str, detail: str) -> None:
    with session_scope(db) as session:
        record_audit(
            session,
            actor=SCHEDULE_ACTOR,
            door=Door.SCHEDULE,
            action=FIND_DELETED_ACTION,
            target=FIND_DELETED_TARGET,
            result=result,
            detail=detail,
        )


def engine_find_deleted(settings: Settings, db: Engine) -> FindDeletedFn:
    """Find for Deleted on a sync engine of its own connectors (closed after); None when not configured."""
    warned = threading.Event()

    def find(trigger: Trigger) -> Sequence[SyncJob] | None:
        services = Services(settings=settings, db=db)
        engine = services.sync_engine_or_none(cannot="find deleted cannot run", warned=warned)
        if engine is None:
            return None
        try:
            return engine.find_deleted(trigger=trigger)
        finally:
            services.connectors.close()

    return find
