"""The scheduled syncs as people see and change them: list, interval, pause, resume, run now.

Changes are stored on the Mapping rows; the running scheduler picks them up within its reconcile period
(about 30 s) without a restart, and next runs are computed from last_run_at + interval, so they survive one.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.ids import ActionKey
from bot.jobs.catalogue import FIXED_JOBS, FixedJob, fixed_job
from bot.jobs.health import job_failed
from bot.jobs.timing import interval_of, next_run_at
from bot.operations import kinds, requests
from bot.operations.base import Actor, InvalidInput
from bot.operations.requests import RequestOutcome
from bot.phrases import Phrase, Value, say
from storage import mappings as mapping_store
from storage.db import session_scope
from storage.errors import newest_error_messages
from storage.jobs import latest_jobs
from storage.models import Mapping, ScheduledJob, SyncJob
from storage.scheduled import record_run, scheduled_jobs
from storage.scheduled import set_job_paused as store_set_job_paused
from storage.types import utcnow

MIN_INTERVAL = timedelta(minutes=1)
MAX_INTERVAL = timedelta(days=7)
SYNC_PREFIX = "sync:"  # job ids as bot.scheduler names them


@dataclass(frozen=True)
class ScheduleEntry:
    """One mapping's recurring sync: id, interval, state, last result and next run."""

    id: str
    mapping: str
    interval_minutes: int
    paused: bool
    enabled: bool
    last_result: str | None  # "ok", "failed: <message>", "running" or None (never ran)
    last_run_at: datetime | None
    next_run_at: datetime | None


def list_schedule(
    db: Engine,
    scheduler_state: MappingABC[str, datetime | None] | None = None,
    *,
    default_minutes: int = 30,
    clock: Callable[[], datetime] = utcnow,
) -> list[ScheduleEntry]:
    """Return the schedule of every mapping in dependency order.

    `scheduler_state` (job id -> next run, from bot.scheduler.scheduler_state) gives the live next runs when
    the scheduler runs in this process; otherwise they are computed from last_run_at + interval.
    """
    now = clock()
    with Session(db) as session:
        rows = mapping_store.list_mappings(session)
        results = _last_results(session)
    entries = []
    for mapping in rows:
        job_id = SYNC_PREFIX + mapping.name
        if scheduler_state is not None and job_id in scheduler_state:
            upcoming = scheduler_state[job_id]
        else:
            upcoming = next_run_at(mapping, default_minutes=default_minutes, now=now)
        entries.append(
            ScheduleEntry(
                id=job_id,
                mapping=mapping.name,
                interval_minutes=_minutes(interval_of(mapping, default_minutes=default_minutes)),
                paused=mapping.paused,
                enabled=mapping.enabled,
                last_result=results.get(mapping.name),
                last_run_at=mapping.last_run_at,
                next_run_at=upcoming if mapping.enabled and not mapping.paused else None,
            )
        )
    return entries


def set_interval(db: Engine, mapping: str, every: timedelta, actor: Actor) -> Mapping:
    """Set how often a mapping syncs (whole minutes, 1 minute to 7 days)."""
    kinds.permit(db, actor, ActionKey.SCHEDULE, target=mapping.strip().upper())
    with session_scope(db) as session:
        row = known_mapping(session, mapping)
        if every < MIN_INTERVAL or every > MAX_INTERVAL:
            too = "failure.interval_too_short" if every < MIN_INTERVAL else "failure.interval_too_long"
            raise InvalidInput(say(too, duration=duration_phrase(every)))
        if every % timedelta(minutes=1):
            raise InvalidInput(say("failure.whole_minutes", duration=duration_phrase(every)))
        was = _words(timedelta(minutes=row.interval_minutes)) if row.interval_minutes else "the default"
        mapping_store.set_interval(session, name=row.name, minutes=_minutes(every))
        kinds.audit(
            session,
            actor=actor,
            action="schedule",
            target=row.name,
            result="ok",
            detail=f"every {_words(every)} (was {was})",
        )
        return row


def pause(db: Engine, mapping: str, actor: Actor) -> Mapping:
    """Pause a mapping's scheduled sync (manual runs still work)."""
    return _set_paused(db, mapping, actor, paused=True)


def resume(db: Engine, mapping: str, actor: Actor) -> Mapping:
    """Resume a mapping's scheduled sync; it runs when last run + interval is reached (at once if overdue)."""
    return _set_paused(db, mapping, actor, paused=False)


def run_now(db: Engine, mapping: str, actor: Actor, *, response_url: str | None = None) -> RequestOutcome:
    """Queue a sync of one mapping for the worker; one already queued or running is reported, not doubled."""
    kinds.permit(db, actor, ActionKey.RUN, target=mapping.strip().upper())
    with Session(db) as session:
        name = known_mapping(session, mapping).name
    return requests.request_work(
        db,
        kind=ActionKey.RUN,
        payload={"mappings": [name], "full": False},
        actor=actor,
        response_url=response_url,
        dedupe_key=name,
    )


def _set_paused(db: Engine, mapping: str, actor: Actor, *, paused: bool) -> Mapping:
    kinds.permit(db, actor, _pausing(paused), target=mapping.strip().upper())
    with session_scope(db) as session:
        row = known_mapping(session, mapping)
        already = row.paused == paused
        mapping_store.set_paused(session, name=row.name, paused=paused)
        _audit_pausing(session, actor, row.name, paused=paused, already=already)
        return row


def _pausing(paused: bool) -> ActionKey:
    return ActionKey.PAUSE if paused else ActionKey.RESUME


def _audit_pausing(session: Session, actor: Actor, target: str, *, paused: bool, already: bool) -> None:
    detail = f"already {'paused' if paused else 'running'}" if already else ""
    kinds.audit(session, actor=actor, action=_pausing(paused), target=target, result="ok", detail=detail)


def known_mapping(session: Session, name: str) -> Mapping:
    """The mapping row called `name`, or InvalidInput listing the known ones."""
    row = mapping_store.get_mapping(session, name=name.strip())
    if row is None:
        names = [m.name for m in mapping_store.list_mappings(session)]
        known: Value = ", ".join(names) if names else say("term.none_yet")
        raise InvalidInput(say("failure.no_mapping", name=repr(name.strip()), known=known))
    return row


def _last_results(session: Session) -> dict[str, str]:
    jobs: dict[str, list[SyncJob]] = {}
    for job in latest_jobs(session):
        jobs.setdefault(job.mapping, []).append(job)
    messages = newest_error_messages(session, job_ids=[job.id for group in jobs.values() for job in group])
    results = {}
    for name, group in jobs.items():
        if any(job.finished_at is None for job in group):
            results[name] = "running"
            continue
        failed = [job for job in group if job_failed(job, has_errors=job.id in messages)]
        if failed:
            reason = failed[-1].message or messages.get(failed[-1].id) or f"{failed[-1].failed} failed"
            results[name] = f"failed: {reason}"
        else:
            results[name] = "ok"
    return results


def _minutes(every: timedelta) -> int:
    return int(every.total_seconds() // 60)


def duration_phrase(duration: timedelta) -> Phrase:
    """A duration in the largest whole unit ("2 hours"), as a phrase."""
    seconds = int(duration.total_seconds())
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds and seconds % size == 0:
            return say(f"term.{unit}", n=seconds // size)
    return say("term.seconds", n=seconds)


def _words(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


# ---- every scheduled job (syncs and the fixed jobs) ----------------------------------------------------


@dataclass(frozen=True)
class JobEntry:
    """One scheduled job for `sync-errors schedule`: a mapping's sync or a fixed job (cleanup, outbox, …)."""

    id: str
    kind: str  # "sync" or the fixed job's id
    description: str
    mapping: str | None
    every_seconds: int | None
    cron: str | None
    state: str  # "active", "paused" or "disabled"
    last_run_at: datetime | None
    last_result: str | None
    next_run_at: datetime | None
    reported_at: datetime | None = None  # when the scheduling process last reported it (None: never)


def list_jobs(
    db: Engine, *, default_minutes: int = 30, clock: Callable[[], datetime] = utcnow
) -> list[JobEntry]:
    """Every scheduled job: the per-mapping syncs in dependency order, then the fixed jobs.

    Intervals, next runs and the fixed jobs' last results are what the scheduling process last reported
    (so the demo's seconds-long intervals show as such); without one, they come from the settings.
    """
    now = clock()
    with Session(db) as session:
        reported = scheduled_jobs(session)
    entries = [
        _sync_entry(entry, reported.get(entry.id), now)
        for entry in list_schedule(db, default_minutes=default_minutes, clock=clock)
    ]
    for job in FIXED_JOBS:
        entries.append(_fixed_entry(job, reported.get(job.id), now))
    known = {entry.id for entry in entries}
    for job_id, row in sorted(reported.items()):
        if job_id not in known and not job_id.startswith(SYNC_PREFIX):  # a job added by a newer scheduler
            entries.append(_reported_entry(row))
    return entries


def _sync_entry(entry: ScheduleEntry, row: ScheduledJob | None, now: datetime) -> JobEntry:
    seconds = row.every_seconds if row and row.every_seconds else entry.interval_minutes * 60
    upcoming = entry.next_run_at
    if upcoming is not None and row is not None and row.every_seconds and entry.last_run_at is not None:
        upcoming = max(entry.last_run_at + timedelta(seconds=row.every_seconds), now)
    state = "disabled" if not entry.enabled else "paused" if entry.paused else "active"
    return JobEntry(
        id=entry.id,
        kind="sync",
        description=f"Synchronize {entry.mapping}",
        mapping=entry.mapping,
        every_seconds=seconds,
        cron=None,
        state=state,
        last_run_at=entry.last_run_at,
        last_result=entry.last_result,
        next_run_at=upcoming,
        reported_at=row.reported_at if row else None,
    )


def _fixed_entry(job: FixedJob, row: ScheduledJob | None, now: datetime) -> JobEntry:
    paused = bool(row and row.paused)
    every = (
        row.every_seconds
        if row and row.every_seconds
        else (int(job.every.total_seconds()) if job.every else None)
    )
    upcoming: datetime | None
    if paused:
        upcoming = None
    elif row is not None and row.next_run_at is not None and row.next_run_at >= now - timedelta(minutes=2):
        upcoming = row.next_run_at
    else:
        upcoming = job.next_after(now)
    return JobEntry(
        id=job.id,
        kind=job.id,
        description=row.description if row and row.description else job.title,
        mapping=None,
        every_seconds=every if job.daily_at is None else None,
        cron=job.cron,
        state="paused" if paused else "active",
        last_run_at=row.last_run_at if row else None,
        last_result=row.last_result if row else None,
        next_run_at=upcoming,
        reported_at=row.reported_at if row else None,
    )


def _reported_entry(row: ScheduledJob) -> JobEntry:
    return JobEntry(
        id=row.id,
        kind=row.id,
        description=row.description,
        mapping=None,
        every_seconds=row.every_seconds,
        cron=row.cron,
        state="paused" if row.paused else "active",
        last_run_at=row.last_run_at,
        last_result=row.last_result,
        next_run_at=None if row.paused else row.next_run_at,
        reported_at=row.reported_at,
    )


def scheduler_is_reporting(entries: list[JobEntry], *, now: datetime, within: timedelta) -> bool:
    """Whether a scheduling process (serve, clock, demo) reported its jobs within `within` of `now`."""
    return any(entry.reported_at is not None and entry.reported_at >= now - within for entry in entries)


def set_job_paused(db: Engine, name: str, actor: Actor, *, paused: bool) -> FixedJob:
    """Pause or resume a fixed job (cleanup, find_deleted, summary, snoozed, outbox, work).

    The running scheduler applies it at its next reconcile (within about 30 s).
    """
    job = known_fixed_job(name)
    kinds.permit(db, actor, _pausing(paused), target=job.id)
    with session_scope(db) as session:
        already = store_set_job_paused(session, job.id, paused=paused)
        _audit_pausing(session, actor, job.id, paused=paused, already=already)
    return job


def note_manual_run(db: Engine, job: FixedJob, *, at: datetime, result: str, actor: Actor) -> None:
    """Record a run of a fixed job started by hand (`sync-errors run JOB`) on the job and in the audit."""
    with session_scope(db) as session:
        record_run(session, job.id, at=at, result=result)
        kinds.audit(
            session, actor=actor, action="run", target=job.id,
            result="ok" if result == "ok" else "failed", detail=result if result != "ok" else "",
        )  # fmt: skip


def known_fixed_job(name: str) -> FixedJob:
    """The fixed job called `name`, or InvalidInput listing the jobs."""
    job = fixed_job(name)
    if job is None:
        names = ", ".join(job.id for job in FIXED_JOBS)
        raise InvalidInput(say("failure.no_job", name=repr(name.strip()), jobs=names))
    return job
