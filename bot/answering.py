"""How many Slack requests a web worker is answering right now, shared with its reply process.

The worker counts each request to /slack/events while it handles it; its reply process (bot.replier) reads
the count and holds a reply back while it is above zero (or the last answer is less than QUIET_SECONDS old:
the clients of a burst send again right away), so the CPU goes to the acks first, also the CPU
time that a lower scheduling priority does not give back (caches, the store, the Slack connection). A reply
is never held longer than the reply process's hold limit, so a long burst of requests does not starve the
replies: after it they take their share again.
"""

from __future__ import annotations

import mmap
import os
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

# The count and when the last request ended (on the clock), each in 8 aligned bytes.
_STATE = struct.Struct("qd")
POLL_SECONDS = 0.05  # how often a held reply looks at the count again (a wake-up costs the acks too)
QUIET_SECONDS = 0.02  # the worker counts as idle once no request was answered for this long


class RequestsInFlight:
    """A counter in shared memory: the worker's threads change it, its reply process reads it."""

    def __init__(self, fd: int | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        if fd is None:
            self._file = tempfile.TemporaryFile()  # unlinked at once; lives while a process holds its fd
            os.ftruncate(self._file.fileno(), _STATE.size)
            fd = self._file.fileno()
        self._fd = fd
        self._memory = mmap.mmap(fd, _STATE.size)
        self._lock = threading.Lock()
        self._clock = clock  # time.monotonic is one clock for every process of the machine

    def fileno(self) -> int:
        """The file descriptor to pass to the reply process."""
        return self._fd

    def count(self) -> int:
        """Requests being answered right now."""
        return int(_STATE.unpack_from(self._memory)[0])

    def idle(self) -> bool:
        """True when no request is being answered and none was for QUIET_SECONDS."""
        count, last_ended = _STATE.unpack_from(self._memory)
        return bool(count <= 0 and self._clock() - last_ended >= QUIET_SECONDS)

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Count one request for as long as the block runs."""
        self._add(1)
        try:
            yield
        finally:
            self._add(-1)

    def wait_until_idle(self, deadline: float) -> bool:
        """Wait while requests are being answered, until `deadline` (on the clock); True when none are."""
        while not self.idle():
            if self._clock() >= deadline:
                return False
            time.sleep(POLL_SECONDS)
        return True

    def _add(self, step: int) -> None:
        with self._lock:
            count, last_ended = _STATE.unpack_from(self._memory)
            _STATE.pack_into(self._memory, 0, count + step, self._clock() if step < 0 else last_ended)


_current: RequestsInFlight | None = None


def count_requests_in(counter: RequestsInFlight | None) -> None:
    """Count this process's Slack requests in `counter` from now on (None: count nothing)."""
    global _current  # noqa: PLW0603 - one counter per web worker, set once at start
    _current = counter


def answering_slack() -> AbstractContextManager[None]:
    """Count one Slack request of this process while the block runs (nothing without a counter)."""
    return nullcontext() if _current is None else _current.answering()
