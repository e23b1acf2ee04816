"""One run of a mapping at a time, across every process and door: a lease row renewed while the run lives."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.jobs import finish_job, unfinished_jobs
from storage.leases import get_lease, release_lease, renew_lease, take_lease
from storage.models import JobType, Trigger
from storage.types import utcnow

LEASE_TTL = timedelta(minutes=5)
RENEW_EVERY_SECONDS = 30.0
KILLED = "Interrupted: the run stopped before it finished"
_HOST = socket.gethostname()[:16]


class MappingBusy(Exception):
    """Another run holds the mapping; says since when and who started it."""

    def __init__(self, mapping: str, started_at: datetime, trigger: Trigger) -> None:
        super().__init__(
            f"{mapping} is already syncing (started {started_at:%H:%M} UTC by the {trigger.value})."
        )
        self.mapping = mapping
        self.started_at = started_at
        self.trigger = trigger


def _holder_is_dead(holder: str) -> bool:
    """True when the holder ran on this machine and its process is gone (killed): no need to wait it out."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class MappingLease:
    """`with MappingLease(db, "CUSTOMER", trigger=...)`: hold the mapping for one run or raise MappingBusy."""

    def __init__(
        self, db: Engine, mapping: str, *, trigger: Trigger, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.mapping = mapping
        self.trigger = trigger
        self.clock = clock
        self.holder = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def __enter__(self) -> MappingLease:
        with session_scope(self.db) as session:
            current = get_lease(session, mapping=self.mapping)
            dead = current is not None and _holder_is_dead(current.holder)
            other = take_lease(
                session,
                mapping=self.mapping,
                holder=self.holder,
                trigger=self.trigger,
                now=utcnow(),
                ttl=LEASE_TTL,
                holder_is_dead=dead,
            )
            if other is not None:
                raise MappingBusy(self.mapping, other.started_at, other.trigger)
            # Holding the lease, no other run of this mapping lives: unfinished jobs were killed.
            for job in unfinished_jobs(session, mapping=self.mapping):
                if job.type in (JobType.SYNC, JobType.COUPLING):
                    finish_job(session, job=job, message=KILLED, now=self.clock())
        self._renewer = threading.Thread(target=self._renew, name=f"lease-{self.mapping}", daemon=True)
        self._renewer.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(RENEW_EVERY_SECONDS):
            try:
                with session_scope(self.db) as session:
                    renew_lease(session, mapping=self.mapping, holder=self.holder, until=utcnow() + LEASE_TTL)
            except Exception:  # noqa: BLE001 - a failed renewal is retried; the run itself decides nothing
                continue

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        with session_scope(self.db) as session:
            release_lease(session, mapping=self.mapping, holder=self.holder)
