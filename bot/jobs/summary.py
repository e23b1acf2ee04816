"""The daily summary in the channel: open errors by mapping and category, failed runs of the last day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.jobs.cleanup import SCHEDULE_ACTOR
from bot.jobs.health import job_failed
from storage.audit import done_since, record_audit
from storage.db import session_scope
from storage.errors import count_skipped, newest_error_messages, open_counts
from storage.jobs import sync_jobs_since
from storage.models import Door, NotificationKind
from storage.outbox import enqueue
from storage.types import utcnow

SUMMARY_ACTION = "daily_summary"


def post_daily_summary(
    db: Engine, *, channel: str | None, clock: Callable[[], datetime] = utcnow
) -> str | None:
    """Queue the daily summary; skipped when there is nothing to say or it was already posted today."""
    if not channel:
        return None
    now = clock()
    midnight = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    with session_scope(db) as session:
        if done_since(session, action=SUMMARY_ACTION, since=midnight):
            return None
        line = summary_text(
            open_counts(session),
            failed_runs(session, since=now - timedelta(days=1)),
            skipped=count_skipped(session),
        )
        if line is None:
            return None
        enqueue(session, kind=NotificationKind.TEXT, channel=channel, payload={"text": line})
        record_audit(
            session,
            actor=SCHEDULE_ACTOR,
            door=Door.SCHEDULE,
            action=SUMMARY_ACTION,
            target=channel,
            result="ok",
            detail=line,
        )
        return line


def failed_runs(session: Session, *, since: datetime) -> Counter[str]:
    """Count finished sync jobs since `since` that were failed runs, by mapping."""
    jobs = sync_jobs_since(session, since=since, finished_only=True)
    with_errors = newest_error_messages(session, job_ids=[job.id for job in jobs])
    return Counter(job.mapping for job in jobs if job_failed(job, has_errors=job.id in with_errors))


def summary_text(
    counts: Sequence[tuple[str, str, int]], failed: Counter[str], *, skipped: int = 0
) -> str | None:
    """The summary's lines, or None when there are no open errors, no failed runs and nothing Skipped."""
    if not counts and not failed and not skipped:
        return None
    total = sum(count for _, _, count in counts)
    lines = [f"📋 Daily summary: {total:,} open error{'' if total == 1 else 's'}."]
    by_mapping: dict[str, list[str]] = {}
    for mapping, category, count in counts:
        by_mapping.setdefault(mapping, []).append(f"{category} {count:,}")
    for mapping in sorted(by_mapping, key=lambda name: (-_total(counts, name), name)):
        lines.append(f"• {mapping}: {', '.join(by_mapping[mapping])}")
    if failed:
        runs = ", ".join(
            f"{mapping} {count}" for mapping, count in sorted(failed.items(), key=lambda i: (-i[1], i[0]))
        )
        lines.append(f"Failed sync jobs in the last day: {runs}.")
    if skipped:
        # Business Central's Coupled Data Synchronization Errors: these records no longer sync by schedule.
        lines.append(
            f"⏭️ {skipped:,} Skipped coupling{'' if skipped == 1 else 's'} (Coupled Data Synchronization "
            f"Errors) {'is' if skipped == 1 else 'are'} left out of scheduled runs until re-synced: "
            "/sync-errors skipped."
        )
    return "\n".join(lines)


def _total(counts: Sequence[tuple[str, str, int]], mapping: str) -> int:
    return sum(count for name, _, count in counts if name == mapping)
