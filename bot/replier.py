"""The reply process of a web worker: renders and sends replies after the ack, at a lower CPU priority.

A web worker (gunicorn, `serve --http`) starts one `python -m bot.replier` of its own and hands it every reply
it defers (handlers.later.Reply) over a pipe (what waits goes in one write; "sent" comes back in batches of
REPORT_SECONDS), so the request threads never share the interpreter with the rendering, and the kernel gives
acks the CPU first (the reply process runs as SCHED_IDLE, else at nice). The worker keeps each reply until the
reply process says it was sent: if the reply process dies, the worker starts a new one and sends it every
reply not yet answered (a reply the dead process sent but had not reported may be sent twice; none is lost,
unless MAX_HANDOVERS reply processes died with it). When the worker stops, the reply process sends what it
has and exits.

Acks first, also beyond the CPU priority: while the worker is answering Slack requests (bot.answering), the
reply process holds each reply back, for at most HOLD_SECONDS after it arrived. Even at SCHED_IDLE, its
rendering and sending between the acks slowed them (the same caches, store and loopback); held, the replies
of a burst go out after it, and a burst longer than HOLD_SECONDS gets its replies meanwhile again.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from bot.answering import RequestsInFlight
from bot.config import Settings
from handlers.later import Reply

log = logging.getLogger(__name__)

REPLY_NICENESS = 10  # where SCHED_IDLE is not available: below the request threads, acks first
REPLY_THREADS = 4  # replies sent at a time (each waits on Slack for a round trip)
MAX_IN_FLIGHT = 2000  # replies a worker keeps for its reply process; beyond, they render in the worker
RESTART_PAUSE_SECONDS = 1.0  # between starts of a reply process that keeps dying
STOP_SECONDS = 10.0  # how long a stopping worker waits for its reply process to send the rest
MAX_HANDOVERS = 3  # a reply in flight when this many reply processes died is dropped (it may kill them)
REPORT_SECONDS = 0.02  # the reply process reports the replies sent in this span as one batch
HOLD_SECONDS = 3.0  # the longest a reply waits for the worker's requests in flight to be answered


@dataclass
class _Link:
    """One running reply process and the two pipes to it."""

    process: subprocess.Popen[bytes]
    jobs: Connection
    done: Connection
    started: float = field(default_factory=time.monotonic)


class ReplyProcess:
    """The worker's side (handlers.later's courier): keeps each reply until the reply process sent it."""

    def __init__(
        self,
        settings: Settings,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        requests: RequestsInFlight | None = None,
        hold_seconds: float = HOLD_SECONDS,
    ) -> None:
        self._settings = settings
        self._max_in_flight = max_in_flight
        self._requests = requests
        self._hold_seconds = hold_seconds
        self._changed = threading.Condition()
        self._in_flight: dict[int, Reply] = {}
        self._unsent: deque[int] = deque()
        self._handovers: dict[int, int] = {}
        self._next_id = 1
        self._restart = False
        self._closing = False
        self._link = self._spawn()
        self._courier = threading.Thread(target=self._send_forever, name="reply-courier", daemon=True)
        self._courier.start()

    @property
    def pid(self) -> int:
        """The reply process's pid (tests kill it)."""
        return self._link.process.pid

    def in_flight(self) -> int:
        """Replies handed over and not yet reported sent."""
        with self._changed:
            return len(self._in_flight)

    def submit(self, reply: Reply) -> bool:
        """Take a reply for the reply process; False when it is MAX_IN_FLIGHT behind (render it here)."""
        with self._changed:
            if self._closing or len(self._in_flight) >= self._max_in_flight:
                return False
            job_id, self._next_id = self._next_id, self._next_id + 1
            self._in_flight[job_id] = reply
            self._unsent.append(job_id)
            self._changed.notify_all()
        return True

    def close(self, timeout: float = STOP_SECONDS) -> None:
        """Send what is left, let the reply process finish and exit (waits up to `timeout`)."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._courier.join(timeout)
        try:
            self._link.process.wait(max(0.0, timeout))
        except subprocess.TimeoutExpired:
            log.warning("the reply process is still sending after %.0f s; leaving it", timeout)

    def _spawn(self) -> _Link:
        jobs_read, jobs_write = os.pipe()
        done_read, done_write = os.pipe()
        command = [sys.executable, "-m", "bot.replier", str(jobs_read), str(done_write)]
        fds: tuple[int, ...] = (jobs_read, done_write)
        if self._requests is not None:
            command += [str(self._requests.fileno()), str(self._hold_seconds)]
            fds += (self._requests.fileno(),)
        process = subprocess.Popen(command, pass_fds=fds)
        os.close(jobs_read)
        os.close(done_write)
        link = _Link(process, Connection(jobs_write, readable=False), Connection(done_read, writable=False))
        link.jobs.send(self._settings)
        threading.Thread(target=self._receive, args=(link,), name="reply-done", daemon=True).start()
        return link

    def _send_forever(self) -> None:
        """The one thread that writes to the reply process (a full pipe blocks only this thread).

        It hands over every reply waiting at that moment in one write, so a burst of acks wakes it once.
        """
        while True:
            with self._changed:
                while not (self._unsent or self._restart or self._closing):
                    self._changed.wait()
                restart, self._restart = self._restart, False
                if not restart:
                    if not self._unsent:  # closing, and everything is handed over
                        break
                    batch = [
                        (job_id, self._in_flight[job_id])
                        for job_id in self._unsent
                        if job_id in self._in_flight
                    ]
                    self._unsent.clear()
                    link = self._link
            if restart:
                link = self._respawn()
                with self._changed:
                    self._link = link
                    self._unsent = deque(self._hand_over_again())  # every reply not reported sent, once
                continue
            if not batch:
                continue
            try:
                link.jobs.send(batch)
            except OSError:
                with self._changed:  # the reply process is gone: wait until _receive asks for another
                    while not (self._restart or self._closing):
                        self._changed.wait()
                    if not self._restart:
                        break
        self._link.jobs.close()

    def _hand_over_again(self) -> list[int]:
        """The replies to give the next reply process, without those that were in flight too often."""
        again = []
        for job_id in list(self._in_flight):
            self._handovers[job_id] = self._handovers.get(job_id, 0) + 1
            if self._handovers[job_id] < MAX_HANDOVERS:
                again.append(job_id)
                continue
            reply = self._in_flight.pop(job_id)
            del self._handovers[job_id]
            log.error("dropped a %s reply: %d reply processes died with it", reply.name, MAX_HANDOVERS)
        return again

    def _respawn(self) -> _Link:
        try:
            self._link.jobs.close()
        except OSError:
            pass  # already gone with its process
        pause = RESTART_PAUSE_SECONDS - (time.monotonic() - self._link.started)
        if pause > 0:
            time.sleep(pause)
        return self._spawn()

    def _receive(self, link: _Link) -> None:
        """Forget the replies the reply process reports sent (in batches); when it dies, ask for a new one."""
        while True:
            try:
                job_ids: list[int] = link.done.recv()
            except (EOFError, OSError):
                break
            with self._changed:
                for job_id in job_ids:
                    self._in_flight.pop(job_id, None)
                    self._handovers.pop(job_id, None)
        link.done.close()
        code = link.process.wait()
        with self._changed:
            if self._closing:
                if self._in_flight:
                    log.warning("%d replies were not sent before the worker stopped", len(self._in_flight))
                return
            log.warning(
                "the reply process %d exited with %s; starting another for %d replies not yet sent",
                link.process.pid,
                code,
                len(self._in_flight),
            )
            self._restart = True
            self._changed.notify_all()


def lower_priority() -> None:
    """Run this process only when no ack wants a CPU: SCHED_IDLE on Linux (inherited by every thread it
    starts; a waking request thread preempts it at once), else nice REPLY_NICENESS."""
    idle = getattr(os, "SCHED_IDLE", None)
    if idle is not None:
        try:
            os.sched_setscheduler(0, idle, os.sched_param(0))
            return
        except OSError:
            pass  # not allowed here: fall back to nice
    os.nice(REPLY_NICENESS)


def serve_replies(
    jobs: Connection, done: Connection, requests: RequestsInFlight | None = None, hold: float = HOLD_SECONDS
) -> None:
    """The reply process: render and send each reply (held while the worker answers requests, at most
    `hold` seconds), report it sent; exit when the worker does."""
    import handlers.actions
    import handlers.commands  # noqa: F401 - registers the replies (handlers.later.REPLIES)
    from bot.logs import configure_logging
    from bot.services import build_services
    from handlers.later import run_reply
    from handlers.request import reply_request

    settings: Settings = jobs.recv()
    configure_logging(settings.log_level.value, settings.log_format.value)
    lower_priority()
    services = build_services(settings)
    reports = _Reports(done)

    def answer(job_id: int, reply: Reply, arrived: float) -> None:
        if requests is not None:
            requests.wait_until_idle(arrived + hold)
        try:
            run_reply(reply_request(services, reply.body), reply)
        except Exception:
            log.exception("a reply failed after the ack")
        reports.add(job_id)

    with ThreadPoolExecutor(REPLY_THREADS, thread_name_prefix="reply") as pool:
        while True:
            try:
                batch: list[tuple[int, Reply]] = jobs.recv()
            except (EOFError, OSError):
                break
            arrived = time.monotonic()
            for job_id, reply in batch:
                pool.submit(answer, job_id, reply, arrived)
    reports.close()


class _Reports:
    """The reply process's "sent" reports to its worker, gathered for REPORT_SECONDS and sent as one list."""

    def __init__(self, done: Connection) -> None:
        self._done = done
        self._changed = threading.Condition()
        self._sent: list[int] = []
        self._closing = False
        self._thread = threading.Thread(target=self._report_forever, name="reply-reports", daemon=True)
        self._thread.start()

    def add(self, job_id: int) -> None:
        """Report `job_id` sent with the next batch."""
        with self._changed:
            self._sent.append(job_id)
            self._changed.notify()

    def close(self) -> None:
        """Send the last batch and stop."""
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._thread.join()

    def _report_forever(self) -> None:
        while True:
            with self._changed:
                while not (self._sent or self._closing):
                    self._changed.wait()
            time.sleep(REPORT_SECONDS)  # let the replies finishing meanwhile join this batch
            with self._changed:
                batch, self._sent = self._sent, []
                closing = self._closing
            if batch:
                try:
                    self._done.send(batch)
                except OSError:
                    pass  # the worker is gone; the replies themselves went out
            if closing and not batch:
                return


def main(argv: list[str]) -> None:
    """`python -m bot.replier JOBS DONE [REQUESTS HOLD]`: the pipes' and the request counter's fds."""
    jobs = Connection(int(argv[0]), writable=False)
    done = Connection(int(argv[1]), readable=False)
    requests = RequestsInFlight(int(argv[2])) if len(argv) > 2 else None
    hold = float(argv[3]) if len(argv) > 3 else HOLD_SECONDS
    serve_replies(jobs, done, requests, hold)


if __name__ == "__main__":
    main(sys.argv[1:])
