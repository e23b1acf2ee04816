"""Health of the scheduled syncs: what a failed run is, and one Slack line per change of state.

A *run* is everything one engine call did for one mapping (one SyncJob per direction). A run **failed**
when any of its sync jobs
- never finished (the engine raised, or the job has no finish time once the call returned), or
- wrote nothing (inserted + modified + deleted + coupled + uncoupled == 0) and either counted failed
  records (`failed > 0`) or has error entries pointing at it (a job-level failure such as a sign-in
  refusal or an admin integration user, which may count no record).
A run whose jobs wrote something succeeded even if some records failed: those failures are posted one by
one as errors. A mapping the engine did not run at all (no job) gets no verdict.

After `ALERT_AFTER_FAILURES` failed runs in a row the channel gets one alert line; the first successful
run afterwards gets one recovery line (Mapping.consecutive_failures and Mapping.health_alerted).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.blocks import mrkdwn
from storage.errors import newest_error_messages
from storage.jobs import sync_jobs_since
from storage.models import Mapping, NotificationKind, SyncJob
from storage.outbox import enqueue

ALERT_AFTER_FAILURES = 3
MESSAGE_CHARS = 200

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    """The verdict on one mapping's run: failed or not, and the message that says why."""

    mapping: str
    failed: bool
    message: str = ""


def wrote_something(job: SyncJob) -> bool:
    """True when the job changed or coupled at least one record."""
    return job.inserted + job.modified + job.deleted + job.coupled + job.uncoupled > 0


def job_failed(job: SyncJob, *, has_errors: bool) -> bool:
    """True when a finished sync job makes its run a failed run (see the module docstring)."""
    if job.finished_at is None:
        return True
    return not wrote_something(job) and (job.failed > 0 or has_errors)


def failure_message(job: SyncJob, error_message: str | None) -> str:
    """The best short reason a job failed: its own message, its newest error's, or its counters."""
    if job.message.strip():
        return job.message.strip()
    if error_message:
        return error_message.strip()
    if job.finished_at is None:
        return "the run did not finish"
    return f"{job.failed} record{'' if job.failed == 1 else 's'} failed"


def judge_runs(
    session: Session, *, names: Sequence[str], since: datetime, crash: str | None = None
) -> list[RunOutcome]:
    """Judge the runs of `names` from the sync jobs started since `since`; `crash`: what the engine raised."""
    jobs = sync_jobs_since(session, since=since, mappings=names)
    messages = newest_error_messages(session, job_ids=[job.id for job in jobs])
    outcomes: list[RunOutcome] = []
    for name in names:
        mine = [job for job in jobs if job.mapping == name]
        failed = [job for job in mine if job_failed(job, has_errors=job.id in messages)]
        if failed:
            last = failed[-1]
            message = (
                crash if crash and last.finished_at is None else failure_message(last, messages.get(last.id))
            )
            outcomes.append(RunOutcome(name, True, message))
        elif mine:
            outcomes.append(RunOutcome(name, False))
        elif crash is not None:
            outcomes.append(RunOutcome(name, True, crash))
    return outcomes


def note_outcome(
    session: Session, *, mapping: Mapping, outcome: RunOutcome, channel: str | None
) -> str | None:
    """Count the run on the mapping; return (and queue for the channel) the alert or recovery line, if any."""
    line: str | None = None
    if outcome.failed:
        mapping.consecutive_failures += 1
        if mapping.consecutive_failures >= ALERT_AFTER_FAILURES and not mapping.health_alerted:
            mapping.health_alerted = True
            line = alert_text(mapping.name, mapping.consecutive_failures, outcome.message)
    else:
        if mapping.health_alerted:
            line = recovery_text(mapping.name)
        mapping.consecutive_failures = 0
        mapping.health_alerted = False
    session.add(mapping)
    if line is not None:
        if channel:
            enqueue(session, kind=NotificationKind.TEXT, channel=channel, payload={"text": line})
        else:
            log.warning("SLACK_CHANNEL is not set; not posting: %s", line)
    session.flush()
    return line


def alert_text(name: str, failures: int, message: str) -> str:
    """The one line posted when a mapping starts failing run after run."""
    reason = mrkdwn.escape(mrkdwn.cut(mrkdwn.one_line(message), MESSAGE_CHARS)).rstrip(".") or "no message"
    return f"⚠️ {name} has failed {failures} runs in a row: {reason}. See /sync-errors list --mapping {name}"


def recovery_text(name: str) -> str:
    """The one line posted when a mapping that was reported failing syncs again."""
    return f"✅ {name} is syncing again: its last run succeeded."
