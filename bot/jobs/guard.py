"""Per-job insurance against a second scheduler: a transaction-level advisory lock on PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.engine import Engine

from storage.advisory import try_transaction_lock

KEY_PREFIX = "sync-errors:job:"

T = TypeVar("T")

log = logging.getLogger(__name__)


@contextmanager
def exclusive(db: Engine, name: str) -> Iterator[bool]:
    """Yield whether this process may run job `name` now.

    On PostgreSQL a `pg_try_advisory_xact_lock(hashtext(...))` is held in a transaction for the whole block,
    so the same job never runs twice at once even if two schedulers were started by mistake; the lock goes
    with the transaction, so pooling is safe. SQLite has one scheduling process (a lock file), so always True.
    """
    if db.dialect.name != "postgresql":
        yield True
        return
    with db.connect() as connection, connection.begin():
        yield try_transaction_lock(connection, KEY_PREFIX + name)


def guarded(db: Engine, name: str, job: Callable[[], T]) -> Callable[[], T | None]:
    """Wrap a job so it is skipped (returning None) while another process runs the same job."""

    def run() -> T | None:
        with exclusive(db, name) as mine:
            if not mine:
                log.warning("job %s is already running in another process; skipped", name)
                return None
            return job()

    run.__name__ = run.__qualname__ = f"guarded_{name.replace(':', '_')}"
    return run
