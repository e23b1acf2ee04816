"""When a mapping's scheduled sync is due: its interval, its next run, and the batch window."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.models import Mapping

# Mappings due within this window of each other run together, in dependency order, in one tick.
BATCH_WINDOW = timedelta(seconds=10)


def interval_of(mapping: Mapping, *, default_minutes: float) -> timedelta:
    """Return the mapping's sync interval (its own, or SYNC_INTERVAL_MINUTES)."""
    return timedelta(minutes=mapping.interval_minutes or default_minutes)


def next_run_at(mapping: Mapping, *, default_minutes: float, now: datetime) -> datetime | None:
    """Return when the mapping's next scheduled sync is due: last run + interval, at once if overdue.

    None when it is paused or disabled (no scheduled run).
    """
    if not mapping.enabled or mapping.paused:
        return None
    if mapping.last_run_at is None:
        return now
    return max(mapping.last_run_at + interval_of(mapping, default_minutes=default_minutes), now)


def is_due(mapping: Mapping, *, default_minutes: float, now: datetime) -> bool:
    """True when the mapping is scheduled and due now (or within the batch window)."""
    due = next_run_at(mapping, default_minutes=default_minutes, now=now)
    return due is not None and due <= now + BATCH_WINDOW
