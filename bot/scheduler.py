"""build_scheduler(...): syncs per mapping, cleanup, find deleted, summary, outbox, work queue, snoozes.

One scheduler only (see bot.clock). The job store is in memory and the jobs are rebuilt from the Mapping rows
at start; a reconcile job keeps them in step with the rows every 30 s, so `schedule`/`pause`/`resume` from
Slack or the terminal take effect without a restart.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.jobs.cleanup import clean_up, last_cleanup_at
from bot.jobs.find_deleted import FindDeletedFn, engine_find_deleted, find_deleted_nightly
from bot.jobs.guard import guarded
from bot.jobs.snoozed import wake_snoozed_errors
from bot.jobs.summary import post_daily_summary
from bot.jobs.syncs import ScheduledSyncs, SyncFn
from bot.jobs.timing import interval_of, next_run_at
from storage.mappings import list_mappings
from storage.types import utcnow

SYNC_PREFIX = "sync:"
CLEANUP_JOB = "cleanup"
FIND_DELETED_JOB = "find_deleted"
SUMMARY_JOB = "summary"
DELIVER_JOB = "outbox"
WORK_JOB = "work"
SNOOZE_JOB = "snoozed"
RECONCILE_JOB = "reconcile"

DELIVER_EVERY = timedelta(seconds=2)
WORK_EVERY = timedelta(seconds=2)
SNOOZE_EVERY = timedelta(minutes=1)
RECONCILE_EVERY = timedelta(seconds=30)
CLEANUP_AT = {"hour": 2, "minute": 30}  # UTC, daily
FIND_DELETED_AT = {"hour": 3, "minute": 0}  # UTC, daily
SUMMARY_AT = {"hour": 8, "minute": 0}  # UTC, daily
CLEANUP_CATCH_UP = timedelta(minutes=1)  # after a start that finds no cleanup in the last day

QUIET_WHEN_BUSY = frozenset({DELIVER_JOB, WORK_JOB, SNOOZE_JOB, RECONCILE_JOB})

SYNC_GRACE_SECONDS = 600
DAILY_GRACE_SECONDS = 3600
FREQUENT_GRACE_SECONDS = 30
THREADS = 10

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def sync_job_id(mapping: str) -> str:
    """The stable id of a mapping's recurring sync job, e.g. "sync:CUSTOMER"."""
    return SYNC_PREFIX + mapping


def build_scheduler(
    *,
    settings: Settings,
    db: Engine,
    sync: SyncFn,
    deliver: Callable[[], object] | None,
    work: Callable[[], object] | None,
    clock: Clock = utcnow,
    blocking: bool = False,
    sync_interval: timedelta | None = None,
    find_deleted: FindDeletedFn | None = None,
) -> BaseScheduler:
    """Return a scheduler (not started; UTC, in-memory store) holding every job, built from the database.

    `sync(names, trigger)` runs mappings in the given (dependency) order; `deliver` posts due outbox rows;
    `work` runs due work items. Either of the last two may be None when another process does it.
    `sync_interval` replaces SYNC_INTERVAL_MINUTES as the default interval (the demo syncs every few seconds).
    `find_deleted(trigger)` runs Find for Deleted every night (default: on a sync engine built from settings).
    """
    default_minutes: float = settings.sync_interval_minutes
    if sync_interval is not None:
        default_minutes = sync_interval.total_seconds() / 60
    threads = concurrent.futures.ThreadPoolExecutor(THREADS, thread_name_prefix="scheduler")
    scheduler: BaseScheduler = (_Blocking if blocking else _Background)(
        threads,
        timezone=UTC,
        executors={"default": _Executor(threads)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": FREQUENT_GRACE_SECONDS},
    )
    syncs = ScheduledSyncs(
        db=db,
        sync=sync,
        default_minutes=default_minutes,
        channel=settings.slack_channel,
        clock=clock,
    )
    planner = SyncJobPlanner(scheduler, db=db, syncs=syncs, default_minutes=default_minutes, clock=clock)
    syncs.after_run = planner.reconcile
    planner.reconcile()
    _add_fixed_jobs(
        scheduler,
        settings=settings,
        db=db,
        deliver=deliver,
        work=work,
        clock=clock,
        planner=planner,
        find_deleted=find_deleted or engine_find_deleted(settings, db),
    )
    return scheduler


def _add_fixed_jobs(
    scheduler: BaseScheduler,
    *,
    settings: Settings,
    db: Engine,
    deliver: Callable[[], object] | None,
    work: Callable[[], object] | None,
    clock: Clock,
    planner: SyncJobPlanner,
    find_deleted: FindDeletedFn,
) -> None:
    now = clock()

    def cleanup() -> object:
        return clean_up(
            db, retention_days=settings.retention_days, channel=settings.slack_channel, clock=clock
        )

    def deleted() -> object:
        return find_deleted_nightly(db, find=find_deleted)

    def summary() -> object:
        return post_daily_summary(db, channel=settings.slack_channel, clock=clock)

    def snoozed() -> object:
        return wake_snoozed_errors(db, clock=clock)

    with Session(db) as session:
        last_cleanup = last_cleanup_at(session)
    catch_up = last_cleanup is None or last_cleanup < now - timedelta(days=1)
    scheduler.add_job(
        guarded(db, CLEANUP_JOB, cleanup),
        CronTrigger(**CLEANUP_AT, timezone=UTC),
        id=CLEANUP_JOB,
        name=f"Delete error entries older than {settings.retention_days} days",
        replace_existing=True,
        misfire_grace_time=DAILY_GRACE_SECONDS,
        **({"next_run_time": now + CLEANUP_CATCH_UP} if catch_up else {}),
    )
    scheduler.add_job(
        guarded(db, FIND_DELETED_JOB, deleted),
        CronTrigger(**FIND_DELETED_AT, timezone=UTC),
        id=FIND_DELETED_JOB,
        name="Find coupled records deleted on one side",
        replace_existing=True,
        misfire_grace_time=DAILY_GRACE_SECONDS,
    )
    scheduler.add_job(
        guarded(db, SUMMARY_JOB, summary),
        CronTrigger(**SUMMARY_AT, timezone=UTC),
        id=SUMMARY_JOB,
        name="Daily summary",
        replace_existing=True,
        misfire_grace_time=DAILY_GRACE_SECONDS,
    )
    scheduler.add_job(
        snoozed, _every(SNOOZE_EVERY), id=SNOOZE_JOB, name="Wake snoozed errors", replace_existing=True
    )
    scheduler.add_job(
        planner.reconcile,
        _every(RECONCILE_EVERY),
        id=RECONCILE_JOB,
        name="Reconcile sync jobs with the mappings",
        replace_existing=True,
    )
    if deliver is not None:
        scheduler.add_job(
            deliver, _every(DELIVER_EVERY), id=DELIVER_JOB, name="Deliver Slack outbox", replace_existing=True
        )
    if work is not None:
        scheduler.add_job(
            work, _every(WORK_EVERY), id=WORK_JOB, name="Run queued work", replace_existing=True
        )


class _Executor(BasePoolExecutor):  # type: ignore[misc]
    """APScheduler's thread pool executor over a pool we keep a handle on."""

    def __init__(self, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        super().__init__(pool)


class _WaitOutsideLocks:
    """shutdown(wait=True) without APScheduler 3.11's deadlock.

    Its shutdown waits for running jobs while holding the job-store lock, so a running job that touches the
    scheduler (a sync ends with a reconcile) would wait for that lock forever. Here the scheduler is shut
    down without waiting, then the pool's threads are joined with no lock held.
    """

    def __init__(self, threads: concurrent.futures.ThreadPoolExecutor, **options: Any) -> None:
        self._threads = threads
        super().__init__(**options)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the scheduler; with `wait`, return when the running jobs have finished."""
        super().shutdown(wait=False)  # type: ignore[misc]
        if wait:
            self._threads.shutdown(wait=True)


class _Background(_WaitOutsideLocks, BackgroundScheduler):  # type: ignore[misc]
    """A BackgroundScheduler whose shutdown(wait=True) cannot deadlock."""


class _Blocking(_WaitOutsideLocks, BlockingScheduler):  # type: ignore[misc]
    """A BlockingScheduler whose shutdown(wait=True) cannot deadlock."""


class _QuietBusySkips(logging.Filter):
    """Drops APScheduler's "maximum number of running instances" warning for the every-few-seconds loops.

    A long delivery or work item makes them skip every tick while it runs, which is expected.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances" not in str(record.msg) or not record.args:
            return True
        job = record.args[0] if isinstance(record.args, tuple) else None
        return getattr(job, "id", None) not in QUIET_WHEN_BUSY


_QUIET_FILTER = _QuietBusySkips()
logging.getLogger("apscheduler.scheduler").addFilter(_QUIET_FILTER)


def _every(period: timedelta) -> IntervalTrigger:
    return IntervalTrigger(seconds=int(period.total_seconds()), timezone=UTC)


class SyncJobPlanner:
    """Keeps one recurring "sync:<MAPPING>" job per enabled mapping in step with the Mapping rows."""

    def __init__(
        self,
        scheduler: BaseScheduler,
        *,
        db: Engine,
        syncs: ScheduledSyncs,
        default_minutes: float,
        clock: Clock,
    ) -> None:
        self._scheduler = scheduler
        self._db = db
        self._syncs = syncs
        self._default_minutes = default_minutes
        self._clock = clock
        self._applied: dict[str, tuple[int, bool, datetime | None]] = {}
        self._lock = threading.Lock()

    def reconcile(self) -> list[str]:
        """Add, remove, reschedule, pause or resume sync jobs to match the database; return what changed."""
        with self._lock:
            now = self._clock()
            with Session(self._db) as session:
                wanted = {sync_job_id(m.name): m for m in list_mappings(session) if m.enabled}
            changes: list[str] = []
            for job in self._scheduler.get_jobs():
                if job.id.startswith(SYNC_PREFIX) and job.id not in wanted:
                    self._scheduler.remove_job(job.id)
                    self._applied.pop(job.id, None)
                    changes.append(f"removed {job.id}")
            for job_id, mapping in wanted.items():
                minutes = int(
                    interval_of(mapping, default_minutes=self._default_minutes).total_seconds() // 60
                )
                state = (minutes, mapping.paused, mapping.last_run_at)
                if self._applied.get(job_id) == state and self._scheduler.get_job(job_id) is not None:
                    continue
                first = next_run_at(mapping, default_minutes=self._default_minutes, now=now)
                self._scheduler.add_job(
                    self._syncs.run,
                    IntervalTrigger(minutes=minutes, start_date=first or now, timezone=UTC),
                    args=[mapping.name],
                    id=job_id,
                    name=f"{mapping.name} - Dataverse synchronization job.",
                    replace_existing=True,
                    misfire_grace_time=SYNC_GRACE_SECONDS,
                    next_run_time=first,  # None: paused
                )
                self._applied[job_id] = state
                changes.append(f"{'paused' if first is None else 'scheduled'} {job_id} every {minutes} min")
            for change in changes:
                log.info("schedule: %s", change)
            return changes


def scheduler_state(scheduler: BaseScheduler) -> dict[str, datetime | None]:
    """Next run time of every job by id (None: paused), for `schedule` in the scheduler's process."""
    return {job.id: getattr(job, "next_run_time", None) for job in scheduler.get_jobs()}


def next_runs(state: MappingABC[str, datetime | None]) -> dict[str, datetime | None]:
    """The next run per mapping name from a `scheduler_state` result."""
    return {
        job_id.removeprefix(SYNC_PREFIX): at for job_id, at in state.items() if job_id.startswith(SYNC_PREFIX)
    }
