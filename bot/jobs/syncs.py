"""The scheduled sync: due mappings run in one engine call, in dependency order; then health is noted."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.jobs.guard import exclusive
from bot.jobs.health import RunOutcome, judge_runs, note_outcome
from bot.jobs.timing import is_due
from bot.sync.order import dependency_order
from storage.db import session_scope
from storage.mappings import get_mapping, list_mappings
from storage.models import Mapping, Trigger
from storage.types import utcnow

SyncFn = Callable[[Sequence[str], Trigger], object]
GUARD_NAME = "sync"

log = logging.getLogger(__name__)


class ScheduledSyncs:
    """The job behind every "sync:<MAPPING>": runs what is due together, stamps last_run_at, keeps health."""

    def __init__(
        self,
        *,
        db: Engine,
        sync: SyncFn,
        default_minutes: float,
        channel: str | None,
        clock: Callable[[], datetime] = utcnow,
        after_run: Callable[[], object] | None = None,
    ) -> None:
        self._db = db
        self._sync = sync
        self._default_minutes = default_minutes
        self._channel = channel
        self._clock = clock
        self.after_run = after_run
        self._lock = threading.Lock()
        self._wanted = False  # a job fired: look for due mappings (again)

    def run(self, name: str) -> list[str]:
        """Run `name` and every other mapping due now, in dependency order; return the names run.

        While a batch runs, a job that fires only asks for another look and returns at once (its thread
        is not held): the running batch looks again for due mappings before it lets go.
        """
        self._wanted = True
        ran: list[str] = []
        while self._wanted:
            if not self._lock.acquire(blocking=False):
                log.debug("sync:%s fired during a batch; the batch looks again when it ends", name)
                break
            try:
                while self._wanted:
                    self._wanted = False
                    ran += self._run_guarded()
            finally:
                self._lock.release()
        if ran and self.after_run is not None:
            self.after_run()
        return ran

    def _run_guarded(self) -> list[str]:
        with exclusive(self._db, GUARD_NAME) as mine:
            if not mine:
                log.warning("a scheduled sync is already running in another process; skipped")
                return []
            return self.run_due()

    def due_now(self, now: datetime) -> list[Mapping]:
        """The enabled, unpaused mappings due now (or within the batch window), in dependency order."""
        with Session(self._db) as session:
            mappings = list_mappings(session, enabled_only=True)
        return dependency_order(
            [m for m in mappings if is_due(m, default_minutes=self._default_minutes, now=now)]
        )

    def run_due(self) -> list[str]:
        """Run the due mappings in one engine call and note each one's outcome."""
        now = self._clock()
        due = self.due_now(now)
        if not due:
            return []
        names = [m.name for m in due]
        log.info("scheduled sync: %s", ", ".join(names))
        crash: str | None = None
        try:
            self._sync(names, Trigger.SCHEDULE)
        except Exception as error:  # the engine records its own errors; this is what escaped it
            log.exception("scheduled sync of %s failed", ", ".join(names))
            crash = str(error).strip() or type(error).__name__
        self.note_runs(names, since=now, crash=crash)
        return names

    def note_runs(
        self,
        names: Sequence[str],
        *,
        since: datetime,
        crash: str | None = None,
    ) -> list[RunOutcome]:
        """Stamp last_run_at on the mappings run and count their failed runs (alert / recovery lines)."""
        with session_scope(self._db) as session:
            outcomes = {o.mapping: o for o in judge_runs(session, names=names, since=since, crash=crash)}
            for name in names:
                mapping = get_mapping(session, name=name, lock=True)
                if mapping is None:
                    continue
                if mapping.last_run_at is None or mapping.last_run_at < since:
                    mapping.last_run_at = since
                session.add(mapping)
                if name in outcomes:
                    note_outcome(
                        session,
                        mapping=mapping,
                        outcome=outcomes[name],
                        channel=self._channel,
                    )
            return list(outcomes.values())
