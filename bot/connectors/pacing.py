"""Pacing one service's requests: an AIMD concurrency limit, a shared Retry-After, a 5-minute budget.

Both services protect themselves per user over a 5-minute sliding window (Dataverse: 6,000 requests,
1,200 s of combined execution time, 52 concurrent requests; Business Central: 6,000 requests, 5 processed
at once). A `$batch` counts as one request there, which is why batches are the unit sent concurrently; the
execution-time limit is what stops batching from being a way around the request count.

The `Pacer` is shared by every thread that talks to one service:
- at most `limit` requests are in flight; `limit` starts low, doubles per round of successes (slow start)
  up to the configured ceiling, then grows by one per round once it has been cut (additive increase);
- a 429 halves it and makes every worker wait out the Retry-After; a timeout, or a `$batch`'s latency
  per operation (batches of ten or more) rising above `latency_tolerance` times the best seen, halves it
  too (multiplicative decrease, at most once per round: other answers of the same burst say nothing new);
- before a request is sent, the requests and the execution seconds of the last `window_seconds` are
  counted; when the next one would exceed the budget, the request waits instead.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

WINDOW_SECONDS = 300.0
LATENCY_SAMPLES_BEFORE_JUDGING = 4
LATENCY_JUDGED_FROM_OPERATIONS = 10
LATENCY_SMOOTHING = 0.3
BASELINE_DRIFT = 0.01  # the best latency creeps up slowly, so a service that became slower for good is learnt


@dataclass(frozen=True, slots=True)
class PacingLimits:
    """How hard this client may use one service (per user): the ceiling and the 5-minute budget."""

    max_concurrency: int
    requests_per_window: int = 6000
    execution_seconds_per_window: float | None = None
    window_seconds: float = WINDOW_SECONDS
    latency_tolerance: float = 2.0
    initial_concurrency: int = 2
    max_pause_seconds: float = 120.0  # a longer Retry-After ends the request instead (see RetryPolicy)

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if self.requests_per_window < 1:
            raise ValueError("requests_per_window must be at least 1")


# Well inside what the services allow: room for the other clients of the same integration user.
DATAVERSE_LIMITS = PacingLimits(max_concurrency=16, execution_seconds_per_window=1200.0)
BUSINESS_CENTRAL_LIMITS = PacingLimits(max_concurrency=4)
ONE_AT_A_TIME = PacingLimits(max_concurrency=1, initial_concurrency=1)


@dataclass(frozen=True, slots=True)
class PacingStats:
    """What a Pacer saw: the highest in-flight count, the busiest window, and the cuts it made."""

    peak_in_flight: int
    peak_requests_per_window: int
    peak_execution_seconds_per_window: float
    requests: int
    throttled: int
    decreases: int
    waited_for_budget_seconds: float
    limit: int


@dataclass
class _LatencyTrack:
    best: float | None = None
    smoothed: float | None = None
    samples: int = 0


@dataclass
class Ticket:
    """One admitted request: when it started and which round of the limit it belongs to."""

    started: float
    epoch: int
    cost: int
    kind: str
    throttled_for: float | None = field(default=None)
    timed_out: bool = False

    def throttled(self, retry_after: float | None) -> None:
        """The service answered 429 (Retry-After seconds, when it said)."""
        self.throttled_for = retry_after if retry_after is not None else 1.0

    def timeout(self) -> None:
        """The service did not answer in time."""
        self.timed_out = True


class Pacer:
    """Admits requests to one service within its limits; thread-safe, one per service and client."""

    def __init__(
        self,
        limits: PacingLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Condition, float | None], None] | None = None,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._wait = wait or _condition_wait
        self._condition = threading.Condition()
        self._limit = float(min(max(1, limits.initial_concurrency), limits.max_concurrency))
        self._threshold = float(limits.max_concurrency)  # slow start until the first cut
        self._in_flight = 0
        self._paused_until = 0.0
        self._honoured: dict[int, float] = {}  # thread -> the pause it already sat out itself (RetryPolicy)
        self._epoch = 0
        self._sent: deque[float] = deque()
        self._busy: deque[tuple[float, float]] = deque()
        self._busy_seconds = 0.0
        self._latency: dict[str, _LatencyTrack] = {}
        self._mean_elapsed = 0.0  # what a request in flight will probably add to the execution time
        self._peak_in_flight = 0
        self._peak_window = 0
        self._peak_busy = 0.0
        self._requests = 0
        self._throttled = 0
        self._decreases = 0
        self._waited = 0.0

    @property
    def limit(self) -> int:
        """How many requests may be in flight now."""
        with self._condition:
            return int(self._limit)

    @property
    def in_flight(self) -> int:
        """Requests admitted and not finished."""
        with self._condition:
            return self._in_flight

    def stats(self) -> PacingStats:
        """The figures so far."""
        with self._condition:
            return PacingStats(
                peak_in_flight=self._peak_in_flight,
                peak_requests_per_window=self._peak_window,
                peak_execution_seconds_per_window=self._peak_busy,
                requests=self._requests,
                throttled=self._throttled,
                decreases=self._decreases,
                waited_for_budget_seconds=self._waited,
                limit=int(self._limit),
            )

    @contextmanager
    def slot(self, *, cost: int = 1, kind: str = "request") -> Iterator[Ticket]:
        """Hold one request slot for the duration of the block; report a 429 or timeout on the ticket."""
        ticket = self.acquire(cost=cost, kind=kind)
        try:
            yield ticket
        finally:
            self.release(ticket)

    def acquire(self, *, cost: int = 1, kind: str = "request") -> Ticket:
        """Wait until a request may be sent (a free slot, no Retry-After pause, budget left); admit it."""
        with self._condition:
            while True:
                now = self._clock()
                self._expire(now)
                wait_for, for_budget = self._must_wait(now)
                if wait_for == 0.0:
                    break
                self._wait(self._condition, wait_for)
                if for_budget:
                    self._waited += self._clock() - now
            self._in_flight += 1
            self._requests += 1
            self._sent.append(now)
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
            self._peak_window = max(self._peak_window, len(self._sent))
            return Ticket(started=now, epoch=self._epoch, cost=max(1, cost), kind=kind)

    def release(self, ticket: Ticket) -> None:
        """The request is finished: account for its time and adjust the limit."""
        with self._condition:
            now = self._clock()
            elapsed = max(0.0, now - ticket.started)
            self._in_flight -= 1
            self._busy.append((now, elapsed))
            self._busy_seconds += elapsed
            self._mean_elapsed += (elapsed - self._mean_elapsed) * LATENCY_SMOOTHING
            self._expire(now)
            self._peak_busy = max(self._peak_busy, self._busy_seconds)
            if ticket.throttled_for is not None:
                self._throttled += 1
                until = now + min(ticket.throttled_for, self.limits.max_pause_seconds)
                self._paused_until = max(self._paused_until, until)
                # The throttled request's own retry waits through RetryPolicy; every other worker waits here.
                self._honoured[threading.get_ident()] = until
                self._decrease(ticket)
            elif ticket.timed_out or self._latency_rose(ticket, elapsed):
                self._decrease(ticket)
            else:
                self._increase()
            self._condition.notify_all()

    # -- internals -------------------------------------------------------------------------------

    def _must_wait(self, now: float) -> tuple[float | None, bool]:
        """(0.0, _) when a request may go now; else seconds to wait (None: until a request finishes), and
        whether it is the 5-minute budget that makes it wait."""
        if now < self._paused_until:
            if self._honoured.get(threading.get_ident(), 0.0) < self._paused_until:
                return self._paused_until - now, False
        elif self._honoured:
            self._honoured.clear()
        if self._in_flight >= int(self._limit):
            return None, False
        window = self.limits.window_seconds
        if len(self._sent) >= self.limits.requests_per_window:
            return max(self._sent[0] + window - now, 0.001), True
        budget = self.limits.execution_seconds_per_window
        if budget is not None and self._busy_seconds + self._in_flight * self._mean_elapsed >= budget:
            if not self._busy:
                return None, True  # the requests in flight alone would use it up: wait for one of them
            return max(self._busy[0][0] + window - now, 0.001), True
        return 0.0, False

    def _expire(self, now: float) -> None:
        horizon = now - self.limits.window_seconds
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()
        while self._busy and self._busy[0][0] <= horizon:
            self._busy_seconds -= self._busy.popleft()[1]
        if not self._busy:
            self._busy_seconds = 0.0

    def _latency_rose(self, ticket: Ticket, elapsed: float) -> bool:
        if ticket.kind != "batch" or ticket.cost < LATENCY_JUDGED_FROM_OPERATIONS:
            return False  # reads and tiny batches are mostly fixed cost: their time says nothing of load
        track = self._latency.setdefault(ticket.kind, _LatencyTrack())
        per_operation = elapsed / ticket.cost
        track.samples += 1
        if track.best is None or per_operation < track.best:
            track.best = per_operation
        else:
            track.best += (per_operation - track.best) * BASELINE_DRIFT
        if track.smoothed is None:
            track.smoothed = per_operation
        else:
            track.smoothed += (per_operation - track.smoothed) * LATENCY_SMOOTHING
        if track.samples < LATENCY_SAMPLES_BEFORE_JUDGING or ticket.epoch != self._epoch:
            return False
        if track.smoothed > self.limits.latency_tolerance * max(track.best, 1e-6):
            track.smoothed = track.best  # judge the new limit on fresh answers only
            return True
        return False

    def _decrease(self, ticket: Ticket) -> None:
        if ticket.epoch != self._epoch:
            return  # this answer belongs to the round that was already cut
        self._epoch += 1
        self._decreases += 1
        self._limit = max(1.0, float(int(self._limit) // 2))
        self._threshold = self._limit

    def _increase(self) -> None:
        ceiling = float(self.limits.max_concurrency)
        if self._limit >= ceiling:
            return
        if self._limit < self._threshold:
            self._limit = min(ceiling, self._threshold, self._limit + 1.0)  # +1 per answer: doubles per round
        else:
            self._limit = min(ceiling, self._limit + 1.0 / int(self._limit))  # +1 per round


def _condition_wait(condition: threading.Condition, timeout: float | None) -> None:
    condition.wait(timeout)
