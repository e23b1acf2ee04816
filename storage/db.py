"""Engine factory and session scope for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_ATTEMPTS = 8
FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 2.0

T = TypeVar("T")
log = logging.getLogger(__name__)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Open a session that commits when the block ends and rolls back if it raises."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(engine: Engine) -> None:
    """Ask the database for `SELECT 1`; raises when it cannot be reached."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def is_locked(error: BaseException) -> bool:
    """True for SQLite's "database is locked" / "database table is locked" (another writer held on)."""
    return isinstance(error, OperationalError) and "locked" in str(getattr(error, "orig", error)).lower()


def write_transaction(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    attempts: int = WRITE_ATTEMPTS,
    deadline_seconds: float | None = None,
) -> T:
    """Run `work(session)` as one short write transaction and commit; the one place that retries.

    On SQLite the writer lock is taken first (a no-op UPDATE waits in busy_timeout instead of failing
    later when a read snapshot would have to become a write), and "database is locked" is retried with
    jittered exponential backoff; `work` must therefore be safe to run again after a rollback. With
    `deadline_seconds` every wait for a lock (SQLite's busy timeout, PostgreSQL's lock_timeout) and every
    retry ends by then, and the last OperationalError is raised: a Slack ack must not wait past its 3 s.
    """
    deadline = None if deadline_seconds is None else time.monotonic() + deadline_seconds
    delay = FIRST_BACKOFF_SECONDS
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(engine) as session:
                if engine.dialect.name == "sqlite":
                    _take_sqlite_writer_lock(session, deadline)
                elif engine.dialect.name == "postgresql" and deadline is not None:
                    session.execute(text(f"SET LOCAL lock_timeout = {_remaining_ms(deadline)}"))
                return work(session)
        except OperationalError as error:
            late = deadline is not None and time.monotonic() + delay >= deadline
            if not is_locked(error) or attempt == attempts or late:
                raise
            log.info("the store is busy (attempt %d of %d); retrying in %.2f s", attempt, attempts, delay)
            time.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter, not cryptography
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
    raise AssertionError("unreachable")  # pragma: no cover


def _remaining_ms(deadline: float) -> int:
    return max(int((deadline - time.monotonic()) * 1000), 1)


def _take_sqlite_writer_lock(session: Session, deadline: float | None) -> None:
    """Take SQLite's writer lock now, waiting at most until `deadline` (then the usual busy timeout again)."""
    if deadline is not None:
        session.execute(text(f"PRAGMA busy_timeout = {_remaining_ms(deadline)}"))
    try:
        session.execute(text("UPDATE workitem SET id = id WHERE 1 = 0"))
    finally:
        if deadline is not None:
            session.execute(text(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))
