"""build_scheduler(...): syncs per mapping, cleanup, find deleted, summary, outbox, work queue, snoozes.

One scheduler only (see bot.leader). The job store is in memory and the jobs are rebuilt from the Mapping rows
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
from typing import Any, TypeVar

from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.jobs import catalogue
from bot.jobs.cleanup import clean_up
from bot.jobs.find_deleted import FindDeletedFn, engine_find_deleted, find_deleted_nightly
from bot.jobs.guard import guarded
from bot.jobs.snoozed import wake_snoozed_errors
from bot.jobs.summary import post_daily_summary
from bot.jobs.syncs import ScheduledSyncs, SyncFn
from bot.jobs.timing import interval_of, next_run_at
from storage.db import session_scope
from storage.jobs import last_started
from storage.mappings import list_mappings
from storage.models import JobType
from storage.scheduled import JobReport, paused_job_ids, report_jobs
from storage.types import utcnow

SYNC_PREFIX = "sync:"
CLEANUP_JOB = catalogue.CLEANUP.id
FIND_DELETED_JOB = catalogue.FIND_DELETED.id
SUMMARY_JOB = catalogue.SUMMARY.id
DELIVER_JOB = catalogue.OUTBOX.id
WORK_JOB = catalogue.WORK.id
SNOOZE_JOB = catalogue.SNOOZED.id
RECONCILE_JOB = "reconcile"  # internal: keeps the jobs in step with the database; not listed

DELIVER_EVERY = catalogue.OUTBOX.every or timedelta(seconds=2)
WORK_EVERY = catalogue.WORK.every or timedelta(seconds=2)
SNOOZE_EVERY = catalogue.SNOOZED.every or timedelta(minutes=1)
RECONCILE_EVERY = timedelta(seconds=30)


def _daily(job: catalogue.FixedJob) -> dict[str, int]:
    hour, minute = job.daily_at or (0, 0)
    return {"hour": hour, "minute": minute}


CLEANUP_CATCH_UP = timedelta(minutes=1)  # after a start that finds no cleanup in the last day

QUIET_WHEN_BUSY = frozenset({DELIVER_JOB, WORK_JOB, SNOOZE_JOB, RECONCILE_JOB})

SYNC_GRACE_SECONDS = 600
DAILY_GRACE_SECONDS = 3600
FREQUENT_GRACE_SECONDS = 30
THREADS = 10

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")


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
    board = JobBoard(scheduler, db=db, planner=planner, clock=clock)
    _add_fixed_jobs(
        scheduler,
        settings=settings,
        db=db,
        deliver=deliver,
        work=work,
        clock=clock,
        board=board,
        find_deleted=find_deleted or engine_find_deleted(settings, db),
    )
    board.publish()
    log.info("scheduler: %s", board.describe())
    return scheduler


def _add_fixed_jobs(
    scheduler: BaseScheduler,
    *,
    settings: Settings,
    db: Engine,
    deliver: Callable[[], object] | None,
    work: Callable[[], object] | None,
    clock: Clock,
    board: JobBoard,
    find_deleted: FindDeletedFn,
) -> None:
    now = clock()
    track = board.track

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
        last_cleanup = last_started(session, type=JobType.CLEANUP)
    catch_up = last_cleanup is None or last_cleanup < now - timedelta(days=1)

    def daily(job: catalogue.FixedJob, run: Callable[[], object], name: str, **extra: Any) -> None:
        scheduler.add_job(
            track(job.id, guarded(db, job.id, run), publish=True),
            CronTrigger(**_daily(job), timezone=UTC),
            id=job.id,
            name=name,
            replace_existing=True,
            misfire_grace_time=DAILY_GRACE_SECONDS,
            **extra,
        )

    def every(job_id: str, run: Callable[[], object], interval: timedelta, name: str) -> None:
        scheduler.add_job(run, _every(interval), id=job_id, name=name, replace_existing=True)

    daily(
        catalogue.CLEANUP,
        cleanup,
        f"Delete error entries older than {settings.retention_days} days",
        **({"next_run_time": now + CLEANUP_CATCH_UP} if catch_up else {}),
    )
    daily(catalogue.FIND_DELETED, deleted, catalogue.FIND_DELETED.title)
    daily(catalogue.SUMMARY, summary, catalogue.SUMMARY.title)
    every(SNOOZE_JOB, track(SNOOZE_JOB, snoozed), SNOOZE_EVERY, catalogue.SNOOZED.title)
    every(RECONCILE_JOB, board.reconcile, RECONCILE_EVERY, "Reconcile sync jobs with the mappings")
    if deliver is not None:
        every(DELIVER_JOB, track(DELIVER_JOB, deliver), DELIVER_EVERY, catalogue.OUTBOX.title)
    if work is not None:
        every(WORK_JOB, track(WORK_JOB, work), WORK_EVERY, catalogue.WORK.title)


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


class _NoJobRegistrations(logging.Filter):
    """Drops APScheduler's "Added job ..." and "Scheduler started" INFO lines; we say what runs in one."""

    QUIET = ("Added job", "Adding job", "Scheduler started")

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and str(record.msg).startswith(self.QUIET))


logging.getLogger("apscheduler.scheduler").addFilter(_NoJobRegistrations())


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
        self._first = True
        self.intervals: dict[str, int] = {}  # job id -> the real interval in seconds (the demo's are seconds)

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
                every = interval_of(mapping, default_minutes=self._default_minutes)
                self.intervals[job_id] = int(every.total_seconds())
                minutes = int(every.total_seconds() // 60)
                state = (minutes, mapping.paused, mapping.last_run_at)
                before = self._applied.get(job_id)
                if before == state and self._scheduler.get_job(job_id) is not None:
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
                if before is not None and before[:2] == state[:2]:
                    continue  # only the last run moved: rescheduled, nothing to tell
                changes.append(f"{'paused' if first is None else 'scheduled'} {job_id} every {minutes} min")
            if self._first and changes:
                log.debug("schedule: %s", "; ".join(changes))
            else:
                for change in changes:
                    log.info("schedule: %s", change)
            self._first = False
            return changes


class JobBoard:
    """Reports the jobs to the store, so `sync-errors schedule` elsewhere sees them, and applies pauses.

    Runs write their outcome in memory; the reconcile tick (every 30 s) and the end of each daily job write
    intervals, next runs and last results to the scheduledjob table and pause or resume the fixed jobs whose
    switch `sync-errors pause JOB` turned.
    """

    def __init__(
        self, scheduler: BaseScheduler, *, db: Engine, planner: SyncJobPlanner, clock: Clock
    ) -> None:
        self._scheduler = scheduler
        self._db = db
        self._planner = planner
        self._clock = clock
        self._outcomes: dict[str, tuple[datetime, str]] = {}
        self._lock = threading.Lock()

    def track(self, job_id: str, job: Callable[[], T], *, publish: bool = False) -> Callable[[], T]:
        """Wrap a job so its outcome ("ok" or "failed: reason") is noted (and, with `publish`, written)."""

        def run() -> T:
            at = self._clock()
            try:
                result = job()
            except Exception as error:
                self._note(job_id, at, f"failed: {_reason(error)}")
                raise
            self._note(job_id, at, "ok")
            if publish:
                self.publish()
            return result

        run.__name__ = run.__qualname__ = f"tracked_{job_id}"
        return run

    def _note(self, job_id: str, at: datetime, result: str) -> None:
        with self._lock:
            self._outcomes[job_id] = (at, result)

    def reconcile(self) -> list[str]:
        """The reconcile tick: sync jobs in step with the mappings, then the report and the pauses."""
        changes = self._planner.reconcile()
        self.publish()
        return changes

    def publish(self) -> None:
        """Apply the pause switches of the fixed jobs and write every job's report (never raises)."""
        try:
            self._publish()
        except Exception:  # noqa: BLE001 - a busy or unreachable store must not stop the scheduler
            log.warning(
                "could not write the schedule report; `sync-errors schedule` may be stale", exc_info=True
            )

    def _publish(self) -> None:
        now = self._clock()
        with self._lock:
            outcomes = dict(self._outcomes)
        with session_scope(self._db) as session:
            paused = paused_job_ids(session)
            reports = []
            for job in self._scheduler.get_jobs():
                if job.id == RECONCILE_JOB:
                    continue
                if catalogue.fixed_job(job.id) is not None:
                    self._apply_pause(job, paused=job.id in paused)
                at, result = outcomes.get(job.id, (None, None))
                reports.append(
                    JobReport(
                        id=job.id,
                        description=str(job.name),
                        every_seconds=self._every_seconds(job),
                        cron=getattr(catalogue.fixed_job(job.id), "cron", None),
                        next_run_at=self._next_run(job, now),
                        last_run_at=at,
                        last_result=result,
                    )
                )
            report_jobs(session, reports, now=now)

    def _apply_pause(self, job: Any, *, paused: bool) -> None:
        is_paused = getattr(job, "next_run_time", "pending") is None
        if paused and not is_paused:
            self._scheduler.pause_job(job.id)
            log.info("schedule: paused %s", job.id)
        elif not paused and is_paused:
            self._scheduler.resume_job(job.id)
            log.info("schedule: resumed %s", job.id)

    def _every_seconds(self, job: Any) -> int | None:
        if job.id in self._planner.intervals:
            return self._planner.intervals[job.id]
        interval = getattr(job.trigger, "interval", None)
        return int(interval.total_seconds()) if isinstance(interval, timedelta) else None

    def _next_run(self, job: Any, now: datetime) -> datetime | None:
        current = self._scheduler.get_job(job.id)
        if current is None:
            return None
        if hasattr(current, "next_run_time"):
            return current.next_run_time  # type: ignore[no-any-return]
        return current.trigger.get_next_fire_time(None, now)  # type: ignore[no-any-return]

    def describe(self) -> str:
        """What runs, in one line: "5 syncs (every 30 min), cleanup daily 02:30 UTC, …"."""
        jobs = [job for job in self._scheduler.get_jobs() if job.id != RECONCILE_JOB]
        syncs = [job for job in jobs if job.id.startswith(SYNC_PREFIX)]
        parts = []
        if syncs:
            seconds = sorted({self._planner.intervals.get(job.id, 0) for job in syncs})
            parts.append(f"{len(syncs)} mapping syncs (every {' / '.join(_words(s) for s in seconds)})")
        for job in jobs:
            fixed = catalogue.fixed_job(job.id)
            if fixed is not None:
                when = fixed.cron or f"every {_words(int(self._every_seconds(job) or 0))}"
                parts.append(f"{job.id} {when}")
        return ", ".join(parts) + "; `sync-errors schedule` lists them"


def _reason(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _words(seconds: int) -> str:
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def scheduler_state(scheduler: BaseScheduler) -> dict[str, datetime | None]:
    """Next run time of every job by id (None: paused), for `schedule` in the scheduler's process."""
    return {job.id: getattr(job, "next_run_time", None) for job in scheduler.get_jobs()}


def next_runs(state: MappingABC[str, datetime | None]) -> dict[str, datetime | None]:
    """The next run per mapping name from a `scheduler_state` result."""
    return {
        job_id.removeprefix(SYNC_PREFIX): at for job_id, at in state.items() if job_id.startswith(SYNC_PREFIX)
    }
