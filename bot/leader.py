"""Leader election: exactly one process runs the scheduler (a PostgreSQL advisory lock, or a lock file).

On PostgreSQL the leader holds a session-level `pg_try_advisory_lock(LEADER_LOCK_KEY)` on a dedicated
AUTOCOMMIT connection that never goes back to a pool; a second clock waits as a hot standby and takes over
when the leader's connection closes. On SQLite only one process may schedule: it holds `flock` on
"<db file>.clock.lock"; a second one is refused (`clock` exits 2, `serve` runs without a scheduler).

Fencing, so that two leaders never run jobs at the same time: every new leader raises a fencing token in the
store (LeaderFence) and waits TAKEOVER_CHECKS check intervals before its first job; the leader confirms its
lock connection and the token before every job run (a job of a replaced leader does not start) and every
check interval (CHECK_SECONDS); when either fails it stops the scheduler and exits non-zero, so its running
jobs end with it before the new leader's wait is over.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from apscheduler.events import EVENT_JOB_ADDED, EVENT_JOB_MODIFIED, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from bot.config import Settings
from storage.advisory import holds_session_lock, session_lock_holder, try_session_lock
from storage.db import make_engine, write_transaction
from storage.fencing import current_fence, raise_fence

LEADER_LOCK_KEY = 0x5359_4E43_4552_5253  # "SYNCERRS": outside hashtext()'s int4 range used by job locks
APPLICATION_NAME = "sync-errors clock"
EXIT_OK = 0
EXIT_LOST = 1
EXIT_REFUSED = 2
FENCE_NAME = "clock"
CHECK_SECONDS = 1.0  # how often the leader confirms its lock between jobs
TAKEOVER_CHECKS = 3  # a new leader waits this many check intervals: the old one has stopped by then

log = logging.getLogger(__name__)


class NotLeader(Exception):
    """Another process already schedules jobs for this database; the message says which."""


class LeadershipLost(Exception):
    """The leader's lock (its connection) is gone; the scheduler must stop."""


class Leader:
    """Held leadership: `check()` raises LeadershipLost when it is gone; `release()` gives it up."""

    description = "leader"

    def check(self) -> None:
        """Raise LeadershipLost when leadership cannot be confirmed."""

    def release(self) -> None:
        """Give leadership up (idempotent)."""

    def __enter__(self) -> Leader:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def whoami() -> str:
    """This process as other processes are told about it: "pid 1234 on host"."""
    return f"pid {os.getpid()} on {socket.gethostname()}"


# ---- SQLite: a lock file ------------------------------------------------------------------------------


class FileLeader(Leader):
    """Leadership held as an exclusive `flock` on "<db file>.clock.lock" (released when the process dies)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = Path(f"{database}.clock.lock")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise NotLeader(
                f"another sync-errors process is already scheduling jobs for {database}; only one may"
                f"{_holder_suffix(self.path)}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{whoami()}\n".encode())
        self._fd: int | None = fd
        self.description = f"lock file {self.path}"

    def release(self) -> None:
        """Unlock and close the lock file (the file itself stays: deleting lock files races)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _holder_suffix(path: Path) -> str:
    try:
        holder = path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" (it is {holder})" if holder else ""


# ---- PostgreSQL: a session-level advisory lock on a dedicated connection ------------------------------


class PostgresLeader(Leader):
    """Leadership held as a session-level advisory lock on a connection kept out of every pool."""

    def __init__(self, db: Engine, *, key: int = LEADER_LOCK_KEY) -> None:
        self.key = key
        self._engine = create_engine(
            db.url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "application_name": f"{APPLICATION_NAME} {whoami()}"[:63],
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
                "connect_timeout": 10,
            },
        )
        self._connection: Connection | None = self._engine.connect()
        try:
            if not try_session_lock(self._connection, key):
                raise NotLeader(f"another clock is running ({describe_holder(self._connection, key)})")
        except BaseException:
            self.release()
            raise
        self.description = f"PostgreSQL advisory lock {key}"

    def check(self) -> None:
        """Confirm on the lock connection that the lock is still ours; a failing query means it is not."""
        if self._connection is None:
            raise LeadershipLost("the leader lock was released")
        try:
            held = holds_session_lock(self._connection, self.key)
        except SQLAlchemyError as error:
            raise LeadershipLost(f"the leader lock connection failed: {_first_line(error)}") from error
        if not held:
            raise LeadershipLost("the leader lock is no longer held")

    def release(self) -> None:
        """Close the lock connection for real (which frees the lock) and its private engine."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except SQLAlchemyError:
                log.debug("closing the lock connection failed", exc_info=True)
        self._engine.dispose()


def describe_holder(connection: Connection, key: int = LEADER_LOCK_KEY) -> str:
    """Who holds the leader lock, from pg_stat_activity: "pid 1234 on host-a" or the backend and address."""
    row = session_lock_holder(connection, key)
    if row is None:
        return "holder unknown"
    backend, application, address, hostname = row
    if application and application.startswith(APPLICATION_NAME + " "):
        return str(application).removeprefix(APPLICATION_NAME + " ")
    return f"PostgreSQL backend pid {backend} from {hostname or address or 'a local socket'}"


def _first_line(error: BaseException) -> str:
    text_ = str(getattr(error, "orig", None) or error).strip()
    return text_.splitlines()[0] if text_ else type(error).__name__


# ---- fencing ----------------------------------------------------------------------------------------


class Fence:
    """The leadership of this process as jobs see it: the lock plus the fencing token taken with it."""

    def __init__(self, db: Engine, leader: Leader) -> None:
        self.db = db
        self.leader = leader
        self.token = write_transaction(
            db, lambda session: raise_fence(session, name=FENCE_NAME, holder=whoami())
        )
        self.lost = threading.Event()
        self.reason = ""

    def confirm(self) -> None:
        """Raise LeadershipLost unless the lock is still ours and no newer leader raised the token."""
        if self.lost.is_set():
            raise LeadershipLost(self.reason)
        self.leader.check()
        with Session(self.db) as session:
            fence = current_fence(session, name=FENCE_NAME)
        if fence is None or fence.token != self.token:
            newer = f"token {fence.token}, {fence.holder}" if fence is not None else "no token"
            raise LeadershipLost(f"a newer leader took over ({newer}; ours was {self.token})")

    def lose(self, reason: str) -> None:
        """Note that leadership is gone (the clock's loop stops the scheduler at once)."""
        self.reason = reason
        self.lost.set()


def fenced(func: Callable[..., object], fence: Fence) -> Callable[..., object]:
    """`func` run only while `fence` confirms leadership; otherwise it does not start and leadership ends."""

    def run(*args: object, **kwargs: object) -> object:
        try:
            fence.confirm()
        except LeadershipLost as lost:
            log.error("%s; this job does not start", lost)
            fence.lose(str(lost))
            return None
        except SQLAlchemyError as error:
            reason = f"the leadership could not be confirmed: {_first_line(error)}"
            log.error("%s; this job does not start", reason)
            fence.lose(reason)
            return None
        return func(*args, **kwargs)

    run.__wrapped__ = func  # type: ignore[attr-defined]
    run.fencing_token = fence.token  # type: ignore[attr-defined]
    return run


def fence_jobs(scheduler: BaseScheduler, fence: Fence) -> None:
    """Run every job of `scheduler`, now and added later, behind `fence` (call before start)."""

    def wrap(job_id: str, jobstore: str | None = None) -> None:
        job = scheduler.get_job(job_id, jobstore)
        if job is not None and getattr(job.func, "fencing_token", None) != fence.token:
            job.modify(func=fenced(job.func, fence))

    for job in scheduler.get_jobs():
        wrap(job.id)

    def on_change(event: JobEvent) -> None:
        wrap(event.job_id, event.jobstore)

    scheduler.add_listener(on_change, EVENT_JOB_ADDED | EVENT_JOB_MODIFIED)


# ---- acquiring --------------------------------------------------------------------------------------


def try_lead(db: Engine) -> Leader:
    """Take leadership now or raise NotLeader saying who has it."""
    if db.dialect.name == "postgresql":
        return PostgresLeader(db)
    database = db.url.database
    if (
        db.dialect.name == "sqlite"
        and database
        and database != ":memory:"
        and not database.startswith("file:")
    ):
        return FileLeader(Path(database).resolve())
    return Leader()  # an in-memory store cannot be shared with another process


def acquire_leadership(
    db: Engine,
    *,
    wait: bool = False,
    stop_event: threading.Event | None = None,
    poll_seconds: float = 5.0,
) -> Leader | None:
    """Return leadership; raise NotLeader when another process has it and we may not wait.

    With `wait` (PostgreSQL only; SQLite never waits) log once that this process is a hot standby and poll
    until the leader goes away; return None if `stop_event` is set meanwhile.
    """
    stop = stop_event or threading.Event()
    announced = False
    while True:
        try:
            return try_lead(db)
        except NotLeader as refusal:
            if not wait or db.dialect.name != "postgresql":
                raise
            if not announced:
                log.warning("%s; waiting as a hot standby", refusal)
                announced = True
        if stop.wait(poll_seconds):
            return None


@contextmanager
def leadership(
    db: Engine, *, wait: bool = False, stop_event: threading.Event | None = None, poll_seconds: float = 5.0
) -> Iterator[Leader | None]:
    """Hold leadership for the block (None if stopped while waiting); may raise NotLeader."""
    leader = acquire_leadership(db, wait=wait, stop_event=stop_event, poll_seconds=poll_seconds)
    try:
        yield leader
    finally:
        if leader is not None:
            leader.release()


def run_clock(
    settings: Settings,
    *,
    make_scheduler: Callable[[], BaseScheduler],
    stop_event: threading.Event,
    db: Engine | None = None,
    poll_seconds: float = 5.0,
    check_seconds: float = CHECK_SECONDS,
) -> int:
    """Lead (or stand by, on PostgreSQL), run the scheduler until `stop_event`; return the exit code.

    0: stopped; 1: the leader lock or the database failed (the scheduler was stopped); 2: SQLite and
    another process already schedules. `make_scheduler` must return a scheduler that is not started and
    does not block (bot.scheduler.build_scheduler(..., blocking=False)): this thread watches the lock.
    On 1 the caller should leave at once (os._exit) so that no job still running outlives the leadership.
    """
    engine = db or make_engine(settings.database_url)
    try:
        leader = acquire_leadership(engine, wait=True, stop_event=stop_event, poll_seconds=poll_seconds)
    except NotLeader as refusal:
        log.error("%s", refusal)
        return EXIT_REFUSED
    except SQLAlchemyError as error:
        log.error("cannot take the leader lock: %s", _first_line(error))
        return EXIT_LOST
    if leader is None:
        return EXIT_OK
    try:
        try:
            fence = Fence(engine, leader)
        except SQLAlchemyError as error:
            log.error("cannot take the fencing token: %s", _first_line(error))
            return EXIT_LOST
        if fence.token > 1 and stop_event.wait(TAKEOVER_CHECKS * check_seconds):
            return EXIT_OK  # stopped while letting the previous leader's last check pass
        scheduler = make_scheduler()
        if isinstance(scheduler, BlockingScheduler) and not isinstance(scheduler, BackgroundScheduler):
            raise TypeError("run_clock needs a non-blocking scheduler (build_scheduler(..., blocking=False))")
        fence_jobs(scheduler, fence)
        scheduler.start()
        log.info(
            "this clock leads (%s, %s, fencing token %d); scheduler started",
            whoami(),
            leader.description,
            fence.token,
        )
        while not stop_event.is_set():
            try:
                fence.confirm()
            except (LeadershipLost, SQLAlchemyError) as lost:
                reason = _first_line(lost) if isinstance(lost, SQLAlchemyError) else str(lost)
                log.error("%s; stopping the scheduler and exiting rather than risk two leaders", reason)
                scheduler.shutdown(wait=False)
                return EXIT_LOST
            if fence.lost.wait(check_seconds):
                continue  # confirm() raises at once with the job's reason
        scheduler.shutdown(wait=True)
        log.info("clock stopped")
        return EXIT_OK
    finally:
        leader.release()
        if db is None:
            engine.dispose()


def stop_on_signals(stop_event: threading.Event) -> None:
    """Set `stop_event` on SIGTERM and SIGINT (call from the main thread)."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop_event.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
