"""Read-only figures for Slack's summary, App Home, status and the paged error list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.doctor import CheckResult
from bot.operations.diagnose import diagnose
from bot.operations.error_entries import find_errors
from bot.operations.schedule import list_schedule
from bot.services import Services
from storage.audit import last_success
from storage.errors import count_skipped, open_counts, skipped_couplings
from storage.jobs import latest_jobs, list_jobs
from storage.models import AuditEntry, Coupling, ErrorStatus, SyncError, SyncJob

STATUS_JOBS = 40


@dataclass(frozen=True)
class Overview:
    """Open errors by (mapping, category, count) and the latest job of each mapping and direction."""

    counts: list[tuple[str, str, int]]
    jobs: list[SyncJob]


@dataclass(frozen=True)
class Skipped:
    """Skipped couplings (the first `limit`), each with its last error entry, and how many there are."""

    items: list[tuple[Coupling, SyncError | None]]
    total: int


@dataclass(frozen=True)
class Home:
    """What App Home shows: the overview, each mapping's next run (mapping, when, paused), Skipped."""

    counts: list[tuple[str, str, int]]
    jobs: list[SyncJob]
    next_runs: list[tuple[str, datetime | None, bool]]
    skipped: Skipped = field(default_factory=lambda: Skipped(items=[], total=0))


@dataclass(frozen=True)
class ErrorPage:
    """One page of the error list (only the columns a list shows are loaded) and the next page's cursor."""

    errors: list[SyncError]
    next_before_id: int | None


def overview(db: Engine) -> Overview:
    """What the summary and App Home show: open errors by mapping and category, the last jobs."""
    with Session(db) as session:
        return Overview(counts=open_counts(session), jobs=latest_jobs(session, type=None))


def home(db: Engine, *, default_minutes: int) -> Home:
    """The overview and the schedule's next runs (from last run + interval; the scheduler keeps to them)."""
    summary = overview(db)
    entries = list_schedule(db, default_minutes=default_minutes)
    runs = [(entry.mapping, entry.next_run_at, entry.paused) for entry in entries if entry.enabled]
    return Home(counts=summary.counts, jobs=summary.jobs, next_runs=runs, skipped=skipped(db, limit=5))


def skipped(db: Engine, *, mapping: str | None = None, limit: int = 100) -> Skipped:
    """The Skipped couplings (BC's Coupled Data Synchronization Errors), each with its last error."""
    with Session(db) as session:
        return Skipped(
            items=skipped_couplings(session, mapping=mapping, limit=limit), total=count_skipped(session)
        )


def recent_jobs(db: Engine, *, limit: int = STATUS_JOBS) -> list[SyncJob]:
    """The job log, newest first."""
    with Session(db) as session:
        return list_jobs(session, limit=limit)


def error_page(
    db: Engine,
    *,
    status: ErrorStatus | None,
    mapping: str | None,
    category: str | None,
    limit: int,
    before_id: int | None = None,
) -> ErrorPage:
    """Errors newest first, `limit` of them, after the cursor; the next cursor when more exist."""
    rows = find_errors(
        db,
        status=status,
        mapping=mapping,
        category=category,
        limit=limit + 1,
        before_id=before_id,
        listed_only=True,
    )
    if len(rows) <= limit:
        return ErrorPage(errors=rows, next_before_id=None)
    page = rows[:limit]
    return ErrorPage(errors=page, next_before_id=page[-1].id)


def check_setup(services: Services) -> list[CheckResult]:
    """Run the doctor's checks against both business apps (NotConfigured when they are not set up)."""
    return diagnose(services.settings, services.db)


def last_done(db: Engine, *, target: str, actions: tuple[str, ...]) -> AuditEntry | None:
    """Who last did one of `actions` to `target` successfully (for "already done by @x at …")."""
    with Session(db) as session:
        return last_success(session, target=target, actions=actions)
