"""`serve --http`'s scheduler and work queue in a process of their own, started fresh, never forked.

gunicorn forks its workers from the master. A process that forks while one of its threads holds SQLite's
writer lock leaves a child that can never write again (SQLite's lock bookkeeping is copied, the lock itself
is not), and gunicorn forks again whenever it replaces a worker. So the master opens no store at all: the
scheduler runs here, in a new interpreter, and stops when the master's pipe closes (however it died).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

from bot.leader import EXIT_REFUSED

log = logging.getLogger(__name__)

RESTART_PAUSE_SECONDS = 5.0  # a scheduler that keeps dying is started again at most this often
STOP_SECONDS = 20.0  # how long a stopping master waits for the scheduler's running job


class SchedulerProcess:
    """The master's side: starts the scheduler process, starts it again if it dies, stops it on exit.

    gunicorn's master reaps every child it has (waitpid(-1)), so the scheduler process's exit is not learnt
    from its exit status: it holds the write end of a status pipe, writes its exit code there when it stops
    on purpose, and a pipe that closes without one means it died.
    """

    def __init__(self, *, role: str) -> None:
        self._role = role
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._lifeline: int | None = None  # the master's write end: closing it stops the scheduler process
        self._status: int | None = None  # the master's read end of the status pipe
        self._watch: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        """The scheduler process's pid, if one was started (tests kill it)."""
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> None:
        """Start the scheduler process and the thread that watches it."""
        self._spawn()
        self._watch = threading.Thread(target=self._supervise, name="scheduler-process", daemon=True)
        self._watch.start()

    def forget_in_child(self) -> None:
        """In a forked gunicorn worker: close the master's pipe ends, so only the master holds them."""
        for fd in (self._lifeline, self._status):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask the scheduler process to finish its running job and exit; kill it after `timeout`."""
        self._stopping.set()
        with self._lock:
            lifeline, self._lifeline = self._lifeline, None
        if lifeline is not None:
            os.close(lifeline)  # the scheduler process stops when its end of the pipe closes
        watch = self._watch
        if watch is None:
            return
        watch.join(timeout)
        if watch.is_alive() and self._process is not None:
            log.warning("the scheduler process did not stop within %.0f s; killing it", timeout)
            try:
                os.kill(self._process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            watch.join(timeout)

    def _spawn(self) -> None:
        lifeline_read, lifeline_write = os.pipe()
        status_read, status_write = os.pipe()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.processes", self._role, str(lifeline_read), str(status_write)],
            pass_fds=(lifeline_read, status_write),
        )
        os.close(lifeline_read)
        os.close(status_write)
        with self._lock:
            self._process, self._lifeline, self._status = process, lifeline_write, status_read

    def _exit_code(self) -> int | None:
        """Wait until the scheduler process's status pipe closes: the code it wrote, or None (it died)."""
        status = self._status
        assert status is not None
        said = b""
        with os.fdopen(status, "rb", buffering=0) as pipe:
            while chunk := pipe.read(16):
                said += chunk
        self._status = None
        return said[-1] if said else None

    def _supervise(self) -> None:
        while True:
            started = time.monotonic()
            code = self._exit_code()
            if self._stopping.is_set():
                return
            if code == EXIT_REFUSED:
                log.warning("this process serves Slack without a scheduler; another process runs the jobs")
                return
            if code == 0:  # stopped by a signal of its own (Ctrl-C reaches the whole process group)
                return
            reason = "died" if code is None else f"exited with code {code}"
            log.error("the scheduler process %s; starting it again", reason)
            with self._lock:
                lifeline, self._lifeline = self._lifeline, None
            if lifeline is not None:
                os.close(lifeline)
            self._stopping.wait(max(0.0, RESTART_PAUSE_SECONDS - (time.monotonic() - started)))
            if self._stopping.is_set():
                return
            self._spawn()


def report_exit(status: int, code: int) -> None:
    """In the scheduler process: tell the master the code it stops with (a closed pipe alone means died)."""
    try:
        os.write(status, bytes([code & 0xFF]))
    except OSError:
        pass  # the master is gone: nobody to tell
    finally:
        os.close(status)


def stop_when_master_is_gone(lifeline: int, stop: threading.Event) -> None:
    """In the scheduler process: set `stop` once the master's end of the pipe closes (stopped, or died)."""

    def watch() -> None:
        with os.fdopen(lifeline, "rb", buffering=0) as pipe:
            while pipe.read(1):
                pass
        stop.set()

    threading.Thread(target=watch, name="lifeline", daemon=True).start()
