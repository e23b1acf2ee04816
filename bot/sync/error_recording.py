"""The error log as the engine writes it: one entry per record and cause, plus its Slack outbox row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.sync.classify import Classification
from storage.errors import has_live_error, reopen_resolved, upsert_error
from storage.models import (
    Category,
    Coupling,
    Direction,
    ErrorStatus,
    NotificationKind,
    SyncError,
    SyncJob,
    SyncResult,
    System,
)
from storage.outbox import enqueue
from storage.types import utcnow

SKIP_AFTER_IDENTICAL_FAILURES = 2
# Failures that are the setup's, not the record's: never a reason to skip a record.
SETUP_CAUSES = (Category.PERMISSIONS, Category.EXCHANGE_RATE, Category.THROTTLED, Category.CONNECTION)
JOB_LEVEL_SOURCE = "job"


@dataclass(frozen=True)
class RecordRef:
    """A record as an error names it; `url` only when the record exists."""

    system: System
    table: str  # singular / logical name, e.g. "customer", "account"
    id: str | None = None
    key: str | None = None
    name: str | None = None
    url: str | None = None


def error_fingerprint(
    *, mapping: str, direction: Direction, source: RecordRef, cause_key: str, job_level: bool
) -> str:
    """sha256 of mapping, direction, source table/id (or "job" for a job-level error) and the cause."""
    where = JOB_LEVEL_SOURCE if job_level else f"{source.table}/{source.id or source.key or ''}"
    text = "\x1f".join((mapping, str(direction), where, cause_key))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_error(
    session: Session,
    *,
    job: SyncJob | None,
    mapping: str,
    direction: Direction,
    classification: Classification,
    source: RecordRef,
    destination: RecordRef,
    coupling: Coupling | None,
    channel: str | None,
    now: datetime | None = None,
) -> SyncError:
    """Store (or count a repeat of) an error, queue its notification, note the failure on the coupling."""
    now = now or utcnow()
    fingerprint = error_fingerprint(
        mapping=mapping,
        direction=direction,
        source=source,
        cause_key=classification.cause_key,
        job_level=classification.job_level,
    )
    draft = SyncError(
        mapping=mapping,
        direction=direction,
        job_id=job.id if job is not None else None,
        category=classification.category,
        code=classification.code,
        message=classification.message[:250],
        detail=classification.detail,
        hint=classification.hint,
        facts=dict(classification.facts),
        fingerprint=fingerprint,
        source_system=source.system,
        source_table=source.table,
        source_id=source.id,
        source_key=_cut(source.key, 100),
        source_name=_cut(source.name, 250),
        source_url=source.url,
        destination_system=destination.system,
        destination_table=destination.table,
        destination_id=destination.id,
        destination_key=_cut(destination.key, 100),
        destination_name=_cut(destination.name, 250),
        destination_url=destination.url,
    )
    # The same record failing the same way again after its error resolved: that error, reopened (its thread
    # gets the repeat, its message its buttons back), not a second one.
    live = has_live_error(session, fingerprint=fingerprint)
    reopened = None if live else reopen_resolved(session, fingerprint=fingerprint, now=now)
    if reopened is not None:
        for name in ("job_id", "message", "detail", "hint", "code", "facts"):
            setattr(reopened, name, getattr(draft, name))
        session.add(reopened)
        error, is_new = reopened, False
    else:
        error, is_new = upsert_error(session, draft=draft, now=now)
    if channel:
        if is_new:
            enqueue(
                session,
                kind=NotificationKind.NEW_ERROR,
                channel=channel,
                error_id=error.id,
                payload={"cause_key": classification.cause_key},
            )
        elif error.status == ErrorStatus.OPEN:
            enqueue(session, kind=NotificationKind.REPEAT, channel=channel, error_id=error.id)
    if coupling is not None:
        note_failure(
            session,
            coupling=coupling,
            direction=direction,
            fingerprint=fingerprint,
            job=job,
            now=now,
            may_skip=classification.category not in SETUP_CAUSES,
        )
    return error


def note_failure(
    session: Session,
    *,
    coupling: Coupling,
    direction: Direction,
    fingerprint: str,
    job: SyncJob | None,
    now: datetime | None = None,
    may_skip: bool = True,
) -> Coupling:
    """Mark a coupling's last sync failed; the same failure twice in a row marks it skipped (as BC does).

    A failure for a setup cause (`may_skip` False: a privilege, an exchange rate, the service) says nothing
    about the record: it is retried every run until the cause is gone, and never marked skipped.
    """
    if coupling.failure_fingerprint == fingerprint:
        coupling.failure_count += 1
    else:
        coupling.failure_fingerprint = fingerprint
        coupling.failure_count = 1
    repeated = coupling.failure_count >= SKIP_AFTER_IDENTICAL_FAILURES
    coupling.skipped = coupling.skipped or (may_skip and repeated)
    job_id = job.id if job is not None else None
    if direction is Direction.FROM_DATAVERSE:
        coupling.last_result_from_dataverse = SyncResult.FAILURE
        coupling.last_job_from_dataverse = job_id
    else:
        coupling.last_result_to_dataverse = SyncResult.FAILURE
        coupling.last_job_to_dataverse = job_id
    coupling.updated_at = now or utcnow()
    session.add(coupling)
    session.flush()
    return coupling


def _cut(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else value
