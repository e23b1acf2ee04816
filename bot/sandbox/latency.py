"""How long the stand-in services take to answer: `none`, `realistic`, or a flat cost per operation."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.sandbox.faults import ApiSide

_current = threading.local()


def pace(operations: int = 1) -> None:
    """Inside a `$batch`: spend the time the request's operations take, with the data lock released.

    Operations that are not atomic commit one after the other on the real services, so a client that
    gives up waiting (or reads meanwhile) may find part of its batch done and part still to come.
    The sandbox's own work is part of that time, not added to it: the n-th operation is done no earlier
    than n steps after the request began (later only when this machine is slower than the model).
    """
    step = getattr(_current, "step", None)
    if step is None or operations <= 0:
        return
    _current.due += step * operations
    remaining = _current.due - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


class BadLatency(ValueError):
    """A latency setting that is neither `none`, `realistic` nor a number of milliseconds."""


@dataclass(frozen=True)
class ServiceCost:
    """One API's costs in milliseconds: per request, per write or read operation, per row returned."""

    request_ms: float
    write_ms: float
    read_ms: float
    row_ms: float


# Orders of magnitude of the real services (Dataverse: a 1,000-create `$batch` takes ~12 s; Business
# Central: a 100-operation `$batch` ~4.5 s; a page of 5,000 / 20,000 rows about a second or two).
REALISTIC: dict[ApiSide, ServiceCost] = {
    "dataverse": ServiceCost(request_ms=40.0, write_ms=12.0, read_ms=8.0, row_ms=0.15),
    "bc": ServiceCost(request_ms=80.0, write_ms=45.0, read_ms=20.0, row_ms=0.1),
}
_JITTER = 0.2


@dataclass
class LatencyModel:
    """The time a request takes: base cost plus each operation (a `$batch` costs about its operations)."""

    name: str = "none"
    costs: dict[ApiSide, ServiceCost] = field(default_factory=dict)
    jitter: float = 0.0
    _random: random.Random = field(default_factory=lambda: random.Random(7), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def parse(cls, spec: str | float | int | None) -> LatencyModel:
        """`none` (the default), `realistic`, or milliseconds per operation (`25`, `2.5`)."""
        if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "none")):
            return cls()
        if isinstance(spec, str) and spec.strip().lower() == "realistic":
            return cls("realistic", dict(REALISTIC), _JITTER)
        try:
            milliseconds = float(spec)
        except ValueError:
            raise BadLatency(
                f"latency '{spec}' is not valid: use none, realistic or milliseconds per operation (e.g. 20)"
            ) from None
        if milliseconds < 0:
            raise BadLatency(f"latency '{spec}' is not valid: milliseconds cannot be negative")
        flat = ServiceCost(request_ms=0.0, write_ms=milliseconds, read_ms=milliseconds, row_ms=0.0)
        return cls(f"{milliseconds:g}", {"dataverse": flat, "bc": flat})

    def change_to(self, spec: str | float | int | None) -> None:
        """Switch this model (shared by the running server) to another setting."""
        other = LatencyModel.parse(spec)
        with self._lock:
            self.name, self.costs, self.jitter = other.name, other.costs, other.jitter

    @contextmanager
    def pacing(self, side: ApiSide, method: str) -> Iterator[None]:
        """Let `pace()` on this thread spend each operation's cost of one request."""
        cost = self.costs.get(side)
        per_operation = 0.0
        if cost is not None:
            per_operation = (cost.read_ms if method.upper() == "GET" else cost.write_ms) / 1000.0
        _current.step = per_operation or None
        _current.due = time.monotonic()
        try:
            yield
        finally:
            _current.step = None

    def seconds(self, side: ApiSide, method: str, operations: int, rows: int) -> float:
        """How long one request with this many operations and returned rows takes on `side`."""
        cost = self.costs.get(side)
        if cost is None:
            return 0.0
        per_operation = cost.read_ms if method.upper() == "GET" else cost.write_ms
        milliseconds = cost.request_ms + per_operation * max(1, operations) + cost.row_ms * rows
        if self.jitter:
            with self._lock:
                milliseconds *= 1 + self._random.uniform(-self.jitter, self.jitter)
        return milliseconds / 1000.0
