"""The services' protection limits per user: concurrent requests, requests and execution time per window.

Dataverse (per user, 5-minute sliding window): 52 concurrent requests, 6,000 requests, 1,200 s of combined
execution time; beyond any of them it answers 429 with Retry-After. Business Central (per user): 5 requests
processed at once and up to 95 more queued (429 beyond 100), 6,000 OData requests per 5 minutes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.sandbox.api_error import ApiError
from bot.sandbox.faults import ApiSide


@dataclass(frozen=True)
class ProtectionLimits:
    """The numbers in force (the real services' by default; tests may shrink them)."""

    window_seconds: float = 300.0
    dataverse_concurrent: int = 52
    dataverse_requests: int = 6000
    dataverse_execution_seconds: float = 1200.0
    bc_concurrent: int = 5
    bc_queued: int = 95
    bc_requests: int = 6000
    bc_queue_timeout_seconds: float = 480.0


@dataclass
class Charge:
    """The execution time one request is charged (None: its wall time, from admission to answer)."""

    seconds: float | None = None


class _UserWindow:
    """One user's requests on one API: in flight, and (finish time, seconds taken) within the window."""

    def __init__(self, processing: int) -> None:
        self.in_flight = 0
        self.started: deque[float] = deque()
        self.finished: deque[tuple[float, float]] = deque()
        self.slots = threading.BoundedSemaphore(processing)


class ServiceProtection:
    """Admits a request under its user's limits or raises the 429 the service would answer."""

    def __init__(self, limits: ProtectionLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        self._users: dict[tuple[ApiSide, str], _UserWindow] = {}
        self.peak_in_flight: dict[ApiSide, int] = {"bc": 0, "dataverse": 0}
        self.peak_window_requests: dict[ApiSide, int] = {"bc": 0, "dataverse": 0}
        self.refused: dict[ApiSide, int] = {"bc": 0, "dataverse": 0}

    def _window(self, side: ApiSide, user: str) -> _UserWindow:
        key = (side, user)
        if key not in self._users:
            processing = (
                self.limits.dataverse_concurrent if side == "dataverse" else self.limits.bc_concurrent
            )
            self._users[key] = _UserWindow(processing)
        return self._users[key]

    @contextmanager
    def admit(self, side: ApiSide, user: str | None) -> Iterator[Charge]:
        """Hold one of the user's request slots for the duration of the block (None: not accounted).

        The request's execution time is what the block sets on the yielded Charge (the latency model's
        service time), else its wall time: the service measures its own time, not a loaded client machine's.
        """
        charge = Charge()
        if user is None:
            yield charge
            return
        now = self.clock()
        with self._lock:
            window = self._window(side, user)
            self._expire(window, now)
            refusal = self._refusal(side, window, now)
            if refusal is not None:
                self.refused[side] += 1
                raise refusal
            window.in_flight += 1
            window.started.append(now)
            self.peak_in_flight[side] = max(self.peak_in_flight[side], window.in_flight)
            self.peak_window_requests[side] = max(self.peak_window_requests[side], len(window.started))
        try:
            if side == "bc" and not window.slots.acquire(timeout=self.limits.bc_queue_timeout_seconds):
                raise ApiError(
                    503,
                    "Internal_ServiceUnavailable",
                    "The request timed out in the queue after 8 minutes. Try again later.",
                )
            try:
                yield charge
            finally:
                if side == "bc":
                    window.slots.release()
        finally:
            finished = self.clock()
            seconds = charge.seconds if charge.seconds is not None else finished - now
            with self._lock:
                window.in_flight -= 1
                window.finished.append((finished, seconds))

    def _expire(self, window: _UserWindow, now: float) -> None:
        edge = now - self.limits.window_seconds
        while window.started and window.started[0] <= edge:
            window.started.popleft()
        while window.finished and window.finished[0][0] <= edge:
            window.finished.popleft()

    def _retry_after(self, oldest: float, now: float) -> str:
        return str(max(1, math.ceil(oldest + self.limits.window_seconds - now)))

    def _refusal(self, side: ApiSide, window: _UserWindow, now: float) -> ApiError | None:
        limits = self.limits
        if side == "dataverse":
            if window.in_flight >= limits.dataverse_concurrent:
                return ApiError(
                    429,
                    "0x80072326",
                    f"Number of concurrent requests exceeded the limit of {limits.dataverse_concurrent}.",
                    [("Retry-After", "1")],
                )
            if len(window.started) >= limits.dataverse_requests:
                return ApiError(
                    429,
                    "0x80072322",
                    f"Number of requests exceeded the limit of {limits.dataverse_requests} over time window "
                    f"of {limits.window_seconds:g} seconds.",
                    [("Retry-After", self._retry_after(window.started[0], now))],
                )
            spent = sum(seconds for _, seconds in window.finished)
            if spent >= limits.dataverse_execution_seconds:
                return ApiError(
                    429,
                    "0x80072321",
                    "Combined execution time of incoming requests exceeded limit of "
                    f"{limits.dataverse_execution_seconds * 1000:,.0f} milliseconds over time window of "
                    f"{limits.window_seconds:g} seconds. Decrease number of concurrent requests or reduce "
                    "the duration of requests and try again later.",
                    [("Retry-After", self._retry_after(window.finished[0][0], now))],
                )
            return None
        connections = limits.bc_concurrent + limits.bc_queued
        if window.in_flight >= connections:
            return ApiError(
                429,
                "Application_TooManyRequests",
                f"Too many requests reached.  Actual ({window.in_flight + 1}). Maximum ({connections}).",
                [("Retry-After", "1")],
            )
        if len(window.started) >= limits.bc_requests:
            return ApiError(
                429,
                "Application_TooManyRequests",
                f"Too many requests reached.  Actual ({len(window.started) + 1}). "
                f"Maximum ({limits.bc_requests}).",
                [("Retry-After", self._retry_after(window.started[0], now))],
            )
        return None

    def report(self) -> dict[str, dict[str, int]]:
        """Per API: most requests in flight at once, most requests in one window, requests refused (429)."""
        with self._lock:
            return {
                side: {
                    "peak_concurrent": self.peak_in_flight[side],
                    "peak_requests_per_window": self.peak_window_requests[side],
                    "refused": self.refused[side],
                }
                for side in ("bc", "dataverse")
            }

    def in_flight(self, side: ApiSide) -> int:
        """Requests being served now on one API (all users)."""
        with self._lock:
            return sum(window.in_flight for (s, _), window in self._users.items() if s == side)
