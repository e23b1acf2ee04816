"""The work-queue worker: claims due WorkItems, runs each through the sync engine, records and answers.

`run_due_work` is called every few seconds by the scheduler (in `serve` or `clock`). Items are claimed one at
a time with a lease of a few seconds that a heartbeat thread renews while the item runs; an item whose worker
died keeps its RUNNING status only until the lease expires, then any worker claims and runs it again. A run
first checks the current state (an error already resolved is not re-synced or restored twice), its outcome is
written with an audit entry in one transaction (only by the newest claim: `attempts` is the fencing token),
and the requester is answered through the response_url they came with. A throttled business app puts the item
back with a delay; after MAX_ATTEMPTS claims the item fails and the requester is told so.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.webhook import WebhookClient
from sqlmodel import Session

from bot.blocks import Message, build_action_result, build_status
from bot.connectors.errors import ConnectorError, Throttled
from bot.i18n import DEFAULT_LOCALE, normalize_locale
from bot.operations import kinds
from bot.operations.base import Actor, OperationError
from bot.operations.kinds import Synced, Then, Tools, WorkOrder
from bot.operations.requests import SILENT_KEY, TARGET_KEY, target_error_id
from bot.phrases import Phrase, english, say
from bot.services import Services
from storage.db import write_transaction
from storage.errors import get_error
from storage.models import Door, ErrorStatus, SyncJob
from storage.types import utcnow
from storage.work_queue import (
    DEFAULT_LEASE,
    claim_due,
    finish_work,
    get_work,
    holds_claim,
    renew_leases,
    retry_work,
)

if TYPE_CHECKING:
    from bot.sync.actions import ActionOutcome, SyncActions
    from bot.sync.engine import SyncEngine

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
DEFAULT_RETRY_AFTER = 30.0
MAX_RETRY_AFTER = 3600.0
RESULT_CHARS = 2000


@dataclass(frozen=True)
class WorkOutcome:
    """What a run did: ok or not, what to tell the requester, and how to answer.

    `text` is a phrase (worded in the requester's language when answered) or words another part made
    (a business app's refusal). `retry_after` (seconds) puts the item back in the queue instead of
    finishing it; `reply` replaces the default one-line answer.
    """

    ok: bool
    text: str | Phrase
    retry_after: float | None = None
    reply: Message | None = field(default=None, compare=False)

    @property
    def record(self) -> str:
        """The outcome in English, for the work log and the audit."""
        return english(self.text) if isinstance(self.text, Phrase) else self.text


WorkRunner = Callable[[WorkOrder], WorkOutcome]


@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    requested_by: str | None
    door: Door
    response_url: str | None
    attempts: int


def work_lease(services: Services) -> timedelta:
    """How long a claim lasts without a heartbeat (WORK_LEASE_SECONDS, default 15 s)."""
    seconds = services.settings.work_lease_seconds
    return timedelta(seconds=seconds) if seconds else DEFAULT_LEASE


def run_due_work(
    services: Services,
    *,
    worker_id: str,
    limit: int = 5,
    runners: Mapping[str, WorkRunner] | None = None,
    clock: Callable[[], datetime] = utcnow,
    lease: timedelta | None = None,
) -> int:
    """Claim and run up to `limit` due work items, one at a time; return how many were claimed.

    `runners` maps a work kind to what runs it (default: the sync engine's actions, built on first need).
    """
    lease = lease or work_lease(services)
    table = runners if runners is not None else _LazyRunners(services)
    item = _claim_one(services, worker_id=worker_id, clock=clock, lease=lease)
    if item is None:
        return 0  # nothing due: no heartbeat thread either
    count = 0
    with keep_leases(services, worker_id=worker_id, lease=lease, clock=clock):
        while item is not None:
            count += 1
            _run_one(services, item, table, worker_id=worker_id, clock=clock)
            if count >= limit:
                break
            item = _claim_one(services, worker_id=worker_id, clock=clock, lease=lease)
    return count


def _claim_one(
    services: Services, *, worker_id: str, clock: Callable[[], datetime], lease: timedelta
) -> _Claimed | None:
    def claim(session: Any) -> _Claimed | None:
        items = claim_due(session, worker=worker_id, limit=1, now=clock(), lease=lease)
        if not items:
            return None
        item = items[0]
        return _Claimed(
            id=item.id or 0,
            kind=item.kind,
            payload=dict(item.payload or {}),
            requested_by=item.requested_by,
            door=item.door,
            response_url=item.response_url,
            attempts=item.attempts,
        )

    return write_transaction(services.db, claim)


@contextmanager
def keep_leases(
    services: Services, *, worker_id: str, lease: timedelta, clock: Callable[[], datetime] = utcnow
) -> Iterator[None]:
    """Renew the leases of `worker_id`'s running items from a heartbeat thread while the block runs."""
    stop = threading.Event()
    every = max(lease.total_seconds() / 3, 0.2)

    def renew(session: Any) -> int:
        return renew_leases(session, worker=worker_id, now=clock(), lease=lease)

    def beat() -> None:
        while not stop.wait(every):
            try:
                write_transaction(services.db, renew)
            except Exception as exc:  # noqa: BLE001 - a missed beat only shortens the lease; say so
                log.warning("could not renew the work leases of %s: %s", worker_id, exc)

    thread = threading.Thread(target=beat, name=f"lease {worker_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 1)


def _actor(services: Services, item: _Claimed) -> Actor:
    who = item.requested_by or "unknown"
    # Authorization is decided again at run time from the settings, never from what was stored.
    is_admin = services.is_admin(who) if item.door is Door.SLACK else True
    return Actor(id=who, door=item.door, is_admin=is_admin)


def _run_one(
    services: Services,
    item: _Claimed,
    runners: Mapping[str, WorkRunner],
    *,
    worker_id: str,
    clock: Callable[[], datetime],
) -> None:
    if "locale" not in item.payload and item.door is Door.SLACK:
        item.payload["locale"] = _locale_of(services, item.requested_by)
    order = WorkOrder(item_id=item.id, kind=item.kind, payload=item.payload, actor=_actor(services, item))
    target = str(item.payload.get(TARGET_KEY) or item.kind)
    outcome = _settled_already(services, item.kind, target) or _outcome(
        services, order, runners, attempts=item.attempts
    )
    if outcome.retry_after is not None:
        delay = min(max(outcome.retry_after, 1.0), MAX_RETRY_AFTER)

        def again(session: Any) -> None:
            row = get_work(session, item_id=item.id)
            if holds_claim(row, worker=worker_id, attempt=item.attempts):
                assert row is not None
                retry_work(
                    session, item=row, due_at=clock() + timedelta(seconds=delay), result=outcome.record
                )

        write_transaction(services.db, again)
        log.info("work item %s (%s) throttled; again in %.0f s", item.id, item.kind, delay)
        return

    def finish(session: Any) -> bool:
        row = get_work(session, item_id=item.id)
        if not holds_claim(row, worker=worker_id, attempt=item.attempts):
            return False
        assert row is not None
        finish_work(session, item=row, ok=outcome.ok, result=outcome.record[:RESULT_CHARS], now=clock())
        kinds.audit(
            session,
            actor=order.actor,
            action=item.kind,
            target=target,
            result="ok" if outcome.ok else "failed",
            detail=outcome.record[:RESULT_CHARS],
        )
        return True

    if not write_transaction(services.db, finish):
        log.warning("work item %s was taken over by another worker; its outcome is theirs", item.id)
        return
    _answer(services, item, outcome)


def _locale_of(services: Services, user_id: str | None) -> str:
    """The requester's locale from Slack (asked here when the click was queued before Slack was asked)."""
    if services.slack is None or not user_id:
        return DEFAULT_LOCALE
    try:
        user = services.slack.users_info(user=user_id, include_locale=True).get("user") or {}
    except Exception as exc:  # noqa: BLE001 - Slack unreachable: English is a fine answer
        log.info("users.info for %s failed (%s); answering in English", user_id, exc)
        return DEFAULT_LOCALE
    return normalize_locale(user.get("locale") if isinstance(user, dict) else None)


def _settled_already(services: Services, kind: str, target: str) -> WorkOutcome | None:
    """The outcome of work that is already done: its error was resolved meanwhile (e.g. by an earlier run)."""
    error_id = target_error_id(target)
    if error_id is None or not kinds.settles(kind):
        return None
    with Session(services.db) as session:
        error = get_error(session, error_id=error_id)
    if error is None or error.status != ErrorStatus.RESOLVED:
        return None
    return WorkOutcome(True, say("work.already_resolved", id=error_id))


def _outcome(
    services: Services, order: WorkOrder, runners: Mapping[str, WorkRunner], *, attempts: int
) -> WorkOutcome:
    if attempts > MAX_ATTEMPTS:
        return WorkOutcome(False, say("work.gave_up", n=MAX_ATTEMPTS))
    if kinds.known(order.kind) and not kinds.may(services.db, order.actor, order.kind, order.payload):
        return WorkOutcome(False, say("work.no_longer_admin"))
    runner = runners.get(order.kind)
    if runner is None:
        return WorkOutcome(False, say("work.unknown_kind", kind=order.kind))
    try:
        outcome = runner(order)
    except Throttled as exc:
        wait = exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER
        if attempts >= MAX_ATTEMPTS:
            return WorkOutcome(False, say("work.kept_throttling", reason=str(exc)))
        return WorkOutcome(False, say("work.throttled", reason=str(exc)), retry_after=wait)
    except (OperationError, ConnectorError, ValueError) as exc:
        return WorkOutcome(False, str(exc) or type(exc).__name__)
    except Exception as exc:
        log.exception("work item %s (%s) failed", order.item_id, order.kind)
        return WorkOutcome(False, say("work.unexpected", kind=type(exc).__name__))
    if outcome.retry_after is not None and attempts >= MAX_ATTEMPTS:
        return WorkOutcome(False, outcome.text)
    return outcome


def _answer(services: Services, item: _Claimed, outcome: WorkOutcome) -> None:
    """Tell the requester: ephemerally through their response_url, else in a direct message (best effort)."""
    if item.payload.get(SILENT_KEY):
        return
    locale = str(item.payload.get("locale") or "en")
    message = outcome.reply or build_action_result(outcome.ok, outcome.text, locale=locale)
    if not item.response_url:
        if item.door is Door.SLACK and services.slack is not None and item.requested_by:
            try:
                services.slack.chat_postMessage(
                    channel=item.requested_by, text=message.text, blocks=message.block_dicts()
                )
            except Exception as exc:  # noqa: BLE001 - the outcome is recorded; the message is a courtesy
                log.warning("answer to work item %s failed: %s", item.id, exc)
        return
    try:
        response = WebhookClient(item.response_url, timeout=10).send(
            text=message.text,
            blocks=message.block_dicts(),
            response_type="ephemeral",
            replace_original=False,
        )
        if response.status_code >= 300:
            log.warning("answer to work item %s: response_url said %s", item.id, response.status_code)
    except Exception as exc:  # noqa: BLE001 - an unanswered requester must not undo the recorded work
        log.warning("answer to work item %s failed: %s", item.id, exc)


# ---- the engine's runners ----------------------------------------------------------------------------


def _said(result: ActionOutcome) -> str | Phrase:
    """What an action said: its phrase (bot.sync.actions), else its words."""
    said = getattr(result, "said", None)
    if isinstance(said, Phrase):
        return said
    return str(result.message) if result.message else say("work.done" if result.ok else "work.failed")


def _as_phrase(result: ActionOutcome) -> Phrase:
    said = _said(result)
    return said if isinstance(said, Phrase) else say("action.reason", reason=said)


def _from_action(result: ActionOutcome) -> WorkOutcome:
    retry_after = getattr(result, "retry_after", None)
    return WorkOutcome(
        ok=bool(result.ok),
        text=_said(result),
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
    )


def _from_ran(ran: kinds.Ran, locale: str) -> WorkOutcome:
    """The outcome of what a catalogue runner returned (an action's result, two of them, or sync jobs)."""
    if isinstance(ran, Synced):
        return _sync_outcome(ran.jobs, locale)
    if isinstance(ran, Then):
        return WorkOutcome(True, say("action.and", first=_as_phrase(ran.first), then=_as_phrase(ran.then)))
    return _from_action(ran)


def _sync_outcome(jobs: list[SyncJob], locale: str) -> WorkOutcome:
    if not jobs:
        return WorkOutcome(True, say("work.nothing_to_sync"))
    failed = sum(job.failed for job in jobs)
    mappings = ", ".join(sorted({job.mapping for job in jobs}))
    text = (
        say("work.synchronized_failed", mappings=mappings, n=failed)
        if failed
        else say("work.synchronized", mappings=mappings)
    )
    return WorkOutcome(True, text, reply=build_status(jobs, locale=locale))


def engine_runners(actions: SyncActions, engine: SyncEngine) -> dict[str, WorkRunner]:
    """The runner of every queued catalogue action, calling the engine's actions (and SyncEngine.run)."""
    tools = Tools(actions=actions, engine=engine)

    def runner(run: kinds.Runner) -> WorkRunner:
        return lambda order: _from_ran(run(tools, order), str(order.payload.get("locale") or "en"))

    return {key: runner(action.runner) for key, action in kinds.CATALOGUE.items() if action.runner}


class _LazyRunners(Mapping[str, WorkRunner]):
    """The engine's runners, built on the first item that needs them (connectors may be unconfigured)."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._table: dict[str, WorkRunner] | None = None

    def _runners(self) -> dict[str, WorkRunner]:
        if self._table is None:
            self._table = build_engine_runners(self._services)
        return self._table

    def __getitem__(self, kind: str) -> WorkRunner:
        return self._runners()[kind]

    def get(self, kind: str, default: Any = None) -> Any:
        if kind not in kinds.QUEUED_KINDS:
            return default
        try:
            return self._runners().get(kind, default)
        except OperationError as exc:  # NotConfigured: every item fails with the same clear sentence
            reason = str(exc)
            return lambda _order: WorkOutcome(False, reason)

    def __iter__(self) -> Any:
        return iter(self._runners())

    def __len__(self) -> int:
        return len(self._runners())


def build_engine_runners(services: Services) -> dict[str, WorkRunner]:
    """Build the sync engine and its actions on the services' connectors (NotConfigured when unset)."""
    from bot.sync.actions import SyncActions

    engine = services.sync_engine()
    return engine_runners(SyncActions(engine), engine)
