"""When and how long to wait before repeating a request the service refused or never answered."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.connectors.errors import ConnectionFailed, ConnectorError, ServerError, Throttled, Timeout


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries: Retry-After for 429, exponential backoff with full jitter for 5xx and network errors.

    `max_attempts` counts every attempt, the first included. A Retry-After longer than `max_retry_after`
    is not waited for: the Throttled error is raised at once (waiting less would only extend the penalty).
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, retry_number: int) -> float:
        """Full-jitter wait before retry `retry_number` (1-based): uniform in [0, min(max, base·2^(n-1)))."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry_number - 1))
        return self.jitter() * ceiling

    def delay_before_retry(self, error: ConnectorError, *, attempt: int, may_repeat: bool) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None when the error must be raised now.

        `may_repeat` is False for a non-idempotent request (a create) that may have reached the server.
        """
        if attempt >= self.max_attempts:
            return None
        if isinstance(error, Throttled):
            if error.retry_after is None:
                return self.backoff(attempt)
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        if not may_repeat:
            return None
        if isinstance(error, ServerError | Timeout | ConnectionFailed):
            return self.backoff(attempt)
        return None


NO_RETRIES = RetryPolicy(max_attempts=1)
