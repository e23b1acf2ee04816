"""The scheduler's fixed jobs (besides one sync per mapping): ids, what they do, and when they run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class FixedJob:
    """One fixed job: an interval (`every`) or a daily UTC time (`daily_at`)."""

    id: str
    title: str
    every: timedelta | None = None
    daily_at: tuple[int, int] | None = None  # (hour, minute) UTC

    @property
    def cron(self) -> str | None:
        """ "daily 02:30 UTC" for daily jobs."""
        return f"daily {self.daily_at[0]:02d}:{self.daily_at[1]:02d} UTC" if self.daily_at else None

    def next_after(self, now: datetime) -> datetime:
        """When it would run next on a schedule started at `now` (without a running scheduler's view)."""
        if self.every is not None:
            return now + self.every
        assert self.daily_at is not None
        hour, minute = self.daily_at
        today = now.astimezone(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
        return today if today > now else today + timedelta(days=1)


CLEANUP = FixedJob("cleanup", "Delete error entries older than RETENTION_DAYS", daily_at=(2, 30))
FIND_DELETED = FixedJob("find_deleted", "Find coupled records deleted on one side", daily_at=(3, 0))
SUMMARY = FixedJob("summary", "Daily summary in the channel", daily_at=(8, 0))
SNOOZED = FixedJob("snoozed", "Wake snoozed errors", every=timedelta(minutes=1))
OUTBOX = FixedJob("outbox", "Deliver Slack outbox", every=timedelta(seconds=2))
WORK = FixedJob("work", "Run queued work", every=timedelta(seconds=2))

FIXED_JOBS: tuple[FixedJob, ...] = (CLEANUP, FIND_DELETED, SUMMARY, SNOOZED, OUTBOX, WORK)
BY_ID = {job.id: job for job in FIXED_JOBS}


def fixed_job(name: str) -> FixedJob | None:
    """The fixed job called `name` ("find-deleted" and "find_deleted" alike), or None."""
    return BY_ID.get(name.strip().lower().replace("-", "_"))
