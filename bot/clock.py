"""Leader election: exactly one process runs the scheduler (a PostgreSQL advisory lock, or a lock file).

On PostgreSQL the leader holds a session-level `pg_try_advisory_lock(LEADER_LOCK_KEY)` on a dedicated
AUTOCOMMIT connection that never goes back to a pool, and checks it regularly; a second clock waits as a hot
standby and takes over when the leader's connection closes. If the leader's lock connection fails it stops
its scheduler and exits non-zero rather than risk two leaders. On SQLite only one process may schedule: it
holds `flock` on "<db file>.clock.lock"; a second one is refused (`clock` exits 2, `serve` runs without a
scheduler).
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

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.config import Settings
from storage.db import make_engine

LEADER_LOCK_KEY = 0x5359_4E43_4552_5253  # "SYNCERRS": outside hashtext()'s int4 range used by job locks
APPLICATION_NAME = "sync-errors clock"
EXIT_OK = 0
EXIT_LOST = 1
EXIT_REFUSED = 2

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
            got = self._connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            if not got:
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
            held = self._connection.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid::bigint = :hi AND objid::bigint = :lo"
                    " AND objsubid = 1)"
                ),
                _split(self.key),
            ).scalar()
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
    row = connection.execute(
        text(
            "SELECT a.pid, a.application_name, host(a.client_addr), a.client_hostname FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.classid::bigint = :hi AND l.objid::bigint = :lo AND l.objsubid = 1 LIMIT 1"
        ),
        _split(key),
    ).first()
    if row is None:
        return "holder unknown"
    backend, application, address, hostname = row
    if application and application.startswith(APPLICATION_NAME + " "):
        return str(application).removeprefix(APPLICATION_NAME + " ")
    return f"PostgreSQL backend pid {backend} from {hostname or address or 'a local socket'}"


def _split(key: int) -> dict[str, int]:
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return {"hi": unsigned >> 32, "lo": unsigned & 0xFFFF_FFFF}


def _first_line(error: BaseException) -> str:
    text_ = str(getattr(error, "orig", None) or error).strip()
    return text_.splitlines()[0] if text_ else type(error).__name__


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


def watch_leadership(
    scheduler: BaseScheduler, leader: Leader, *, every_seconds: float = 10.0, on_lost: Callable[[str], object]
) -> None:
    """Add a heartbeat job: when the lock is lost it shuts the scheduler down and calls `on_lost`.

    For a caller running a BlockingScheduler in the main thread (run_clock checks from its own loop).
    """

    def heartbeat() -> None:
        try:
            leader.check()
        except LeadershipLost as lost:
            log.error("%s; stopping the scheduler", lost)
            scheduler.shutdown(wait=False)
            on_lost(str(lost))

    scheduler.add_job(
        heartbeat,
        "interval",
        seconds=every_seconds,
        id="leadership",
        name="Check leadership",
        replace_existing=True,
    )


# ---- the clock process ------------------------------------------------------------------------------


def run_clock(
    settings: Settings,
    *,
    make_scheduler: Callable[[], BaseScheduler],
    stop_event: threading.Event,
    db: Engine | None = None,
    poll_seconds: float = 5.0,
    check_seconds: float = 10.0,
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
        scheduler = make_scheduler()
        if isinstance(scheduler, BlockingScheduler) and not isinstance(scheduler, BackgroundScheduler):
            raise TypeError("run_clock needs a non-blocking scheduler (build_scheduler(..., blocking=False))")
        scheduler.start()
        log.info("this clock leads (%s, %s); scheduler started", whoami(), leader.description)
        while not stop_event.wait(check_seconds):
            try:
                leader.check()
            except LeadershipLost as lost:
                log.error("%s; stopping the scheduler and exiting rather than risk two leaders", lost)
                scheduler.shutdown(wait=False)
                return EXIT_LOST
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
