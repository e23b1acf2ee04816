"""Lines about synchronization jobs and the open-error counts, shared by replies and App Home."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ButtonElement

from bot.blocks import kit, mrkdwn
from bot.blocks.wording import Word, Wording
from bot.ids import ActionId
from storage.models import SyncJob

JOB_MESSAGE_CHARS = 120


def job_line(job: SyncJob, w: Wording) -> str:
    """ "✅ *CUSTOMER* · sync · Business Central → Dataverse · started <date> · inserted 3 · failed 1"."""
    if job.finished_at is None:
        mark, outcome = "⏳", w.word(Word.JOB_RUNNING)
    else:
        mark = "⚠️" if job.failed else "✅"
        outcome = w.counters(job.counters())
    parts = [
        f"{mark} *{mrkdwn.escape(job.mapping)}*",
        w.job_type(job.type),
        w.direction(job.direction),
        w.job_started(job.started_at),
        outcome,
    ]
    line = " · ".join(parts)
    if job.message.strip():
        line += f" — _{mrkdwn.escape(mrkdwn.cut(mrkdwn.one_line(job.message), JOB_MESSAGE_CHARS))}_"
    return line


def last_job_per_mapping(jobs: Sequence[SyncJob]) -> list[SyncJob]:
    """The newest job of each mapping, ordered by mapping name."""
    latest: dict[str, SyncJob] = {}
    for job in jobs:
        current = latest.get(job.mapping)
        if current is None or job.started_at > current.started_at:
            latest[job.mapping] = job
    return [latest[name] for name in sorted(latest)]


def purge_buttons(w: Wording, retention_days: int) -> list[ButtonElement]:
    """ "Delete entries older than 7 days" and "Delete all entries", each behind a confirm dialog."""
    return [
        kit.button(
            w.button_purge_older(retention_days),
            ActionId.PURGE_OLDER_THAN,
            str(retention_days),
            confirm_with=kit.confirm(*w.confirm_purge_older(retention_days), w.word(Word.CANCEL)),
        ),
        kit.button(
            w.word(Word.BUTTON_PURGE_ALL),
            ActionId.PURGE_ALL,
            "all",
            style="danger",
            confirm_with=kit.confirm(*w.confirm_purge_all(), w.word(Word.CANCEL)),
        ),
    ]
