"""Burst windows (Sentry's digest rule): first error at once, then hold, extend per error, cap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class DigestSettings(Protocol):
    """The three digest parameters (bot.config.Settings has them)."""

    @property
    def digest_min_seconds(self) -> int: ...

    @property
    def digest_step_seconds(self) -> int: ...

    @property
    def digest_max_seconds(self) -> int: ...


@dataclass(frozen=True)
class DigestTiming:
    """Digest parameters given directly (tests, the demo)."""

    digest_min_seconds: int = 300
    digest_step_seconds: int = 30
    digest_max_seconds: int = 1800


def window_closes_at(timing: DigestSettings, *, opened_at: datetime, held: int) -> datetime:
    """When a channel's burst window closes: min after it opened, + step per held error, capped at max."""
    extended = timing.digest_min_seconds + timing.digest_step_seconds * held
    cap = max(timing.digest_max_seconds, timing.digest_min_seconds)
    return opened_at + timedelta(seconds=min(extended, cap))
