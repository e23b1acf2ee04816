"""Per-channel pacing: at most one post per second per channel, and Retry-After holds after a 429."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

POST_INTERVAL = timedelta(seconds=1)


class ChannelPacer:
    """Remembers, per channel, the earliest moment the next message may be posted."""

    def __init__(self, interval: timedelta = POST_INTERVAL) -> None:
        self._interval = interval
        self._next: dict[str, datetime] = {}
        self._held: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def wait_until(self, channel: str, now: datetime) -> datetime | None:
        """The moment `channel` may be posted to again, or None if it may be now."""
        with self._lock:
            moment = self._next.get(channel)
        return moment if moment is not None and moment > now else None

    def posting(self, channel: str, now: datetime) -> None:
        """Note a post attempt in `channel` now."""
        with self._lock:
            _later(self._next, channel, now + self._interval)

    def hold(self, channel: str, until: datetime) -> None:
        """Keep `channel` quiet until `until` after a 429 (never shortens an existing hold)."""
        with self._lock:
            _later(self._next, channel, until)
            _later(self._held, channel, until)

    def next_free(self, now: datetime) -> float | None:
        """Seconds until the first paced channel may be posted to again, or None if none is paced."""
        with self._lock:
            later = [moment for moment in self._next.values() if moment > now]
        return (min(later) - now).total_seconds() if later else None

    def paced(self, now: datetime) -> frozenset[str]:
        """Channels that may not be posted to now."""
        with self._lock:
            return frozenset(channel for channel, moment in self._next.items() if moment > now)

    def blocked(self, now: datetime) -> frozenset[str]:
        """Channels Slack rate-limited (429) whose Retry-After has not passed: no calls at all."""
        with self._lock:
            return frozenset(channel for channel, moment in self._held.items() if moment > now)


def _later(moments: dict[str, datetime], channel: str, moment: datetime) -> None:
    current = moments.get(channel)
    if current is None or moment > current:
        moments[channel] = moment
