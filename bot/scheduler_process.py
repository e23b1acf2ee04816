"""`serve --http`'s scheduler and work queue in a process of their own, started fresh, never forked.

gunicorn forks its workers from the master. A process that forks while one of its threads holds SQLite's
writer lock leaves a child that can never write again (SQLite's lock bookkeeping is copied, the lock itself
is not), and gunicorn forks again whenever it replaces a worker. So the master opens no store at all: the
scheduler runs here, in a new interpreter, and stops when the master's pipe closes (however it died).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

from bot.leader import EXIT_REFUSED

log = logging.getLogger(__name__)

RESTART_PAUSE_SECONDS = 5.0  # a scheduler that keeps dying is started again at most this often
STOP_SECONDS = 20.0  # how long a stopping master waits for the scheduler's running job


class SchedulerProcess:
    """The master's side: starts the scheduler process, starts it again if it dies, stops it on exit."""

    def __init__(self, *, role: str) -> None:
        self._role = role
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._lifeline: int | None = None
        self._watch: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        """The running scheduler process's pid, if any (tests kill it)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self) -> None:
        """Start the scheduler process and the thread that watches it."""
        self._spawn()
        self._watch = threading.Thread(target=self._supervise, name="scheduler-process", daemon=True)
        self._watch.start()

    def forget_in_child(self) -> None:
        """In a forked gunicorn worker: close the lifeline, so only the master keeps the scheduler alive."""
        if self._lifeline is not None:
            try:
                os.close(self._lifeline)
            except OSError:
                pass

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask the scheduler process to finish its running job and exit; kill it after `timeout`."""
        self._stopping.set()
        with self._lock:
            process, lifeline = self._process, self._lifeline
            self._lifeline = None
        if lifeline is not None:
            os.close(lifeline)  # the scheduler process stops when its end of the pipe closes
        if process is None:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the scheduler process did not stop within %.0f s; killing it", timeout)
            process.kill()
            process.wait()

    def _spawn(self) -> None:
        lifeline_read, lifeline_write = os.pipe()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.processes", self._role, str(lifeline_read)],
            pass_fds=(lifeline_read,),
        )
        os.close(lifeline_read)
        with self._lock:
            self._process, self._lifeline = process, lifeline_write

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            assert process is not None
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            if code == EXIT_REFUSED:
                log.warning("this process serves Slack without a scheduler; another process runs the jobs")
                return
            if code == 0:  # stopped by a signal of its own (Ctrl-C reaches the whole process group)
                return
            log.error("the scheduler process exited (code %s); starting it again", code)
            with self._lock:
                lifeline, self._lifeline = self._lifeline, None
            if lifeline is not None:
                os.close(lifeline)
            self._stopping.wait(max(0.0, RESTART_PAUSE_SECONDS - (time.monotonic() - started)))
            if not self._stopping.is_set():
                self._spawn()


def stop_when_master_is_gone(lifeline: int, stop: threading.Event) -> None:
    """In the scheduler process: set `stop` once the master's end of the pipe closes (stopped, or died)."""

    def watch() -> None:
        with os.fdopen(lifeline, "rb", buffering=0) as pipe:
            while pipe.read(1):
                pass
        stop.set()

    threading.Thread(target=watch, name="lifeline", daemon=True).start()
