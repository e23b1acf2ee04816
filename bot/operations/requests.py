"""Asking for work that calls a business app: one live work item per (kind, target), audited, idempotent.

A click or a command writes a WorkItem here and returns at once; `bot.worker` runs it. A second request
for the same kind and target while the first is queued or running gets `AlreadyQueued` (who asked, when);
a request for something already done to an error gets `AlreadyDone` (the error row or the audit entry that
says who did it). Who may ask, and whether an action settles an error, is the catalogue's
(bot.operations.kinds); its `permit` audits a refusal, so every door records them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.operations import kinds
from bot.operations.base import Actor, InvalidInput, NotFound
from bot.phrases import app, say
from bot.sync.refs import BadReference, as_guid, parse_ref
from storage.audit import last_success
from storage.db import write_transaction
from storage.errors import get_error
from storage.models import AuditEntry, Category, ErrorStatus, SyncError, System, WorkItem, WorkStatus
from storage.work_queue import enqueue_work, live_work, serialise_requests

DEDUPE_KEY = "dedupe_key"
TARGET_KEY = "target"
SILENT_KEY = "silent"  # payload flag: record the outcome, answer nobody (the error messages show it)


@dataclass(frozen=True)
class Queued:
    """A new work item was written; the worker will run it and answer."""

    item_id: int
    kind: str
    target: str


@dataclass(frozen=True)
class AlreadyQueued:
    """The same work is already queued or running: who asked for it and when."""

    item_id: int
    kind: str
    target: str
    requested_by: str | None
    requested_at: datetime
    running: bool


@dataclass(frozen=True)
class AlreadyDone:
    """The error was already settled: the error row (resolved/snoozed) or the audit entry of who did it."""

    kind: str
    target: str
    done: SyncError | AuditEntry


RequestOutcome = Queued | AlreadyQueued | AlreadyDone


def error_target(error_id: int) -> str:
    """The audit/dedupe target of an error ("error:17")."""
    return f"error:{error_id}"


def target_error_id(target: str) -> int | None:
    """The error id of an "error:17" target, else None."""
    prefix, _colon, rest = target.partition(":")
    return int(rest) if prefix == "error" and rest.isdigit() else None


def request_work(
    db: Engine,
    *,
    kind: str,
    payload: dict[str, Any],
    actor: Actor,
    response_url: str | None,
    dedupe_key: str,
    deadline_seconds: float | None = None,
) -> RequestOutcome:
    """Queue `kind` for `dedupe_key` (the target, e.g. "error:17") unless it is queued or done already.

    Raises NotAllowed (after auditing the refusal) when the kind is admin-only and the actor is no admin,
    NotFound when the target error does not exist any more, ValueError for an unknown kind, and the store's
    OperationalError when it could not write within `deadline_seconds` (nothing was written then).
    """
    if kind not in kinds.QUEUED_KINDS:
        raise ValueError(f"unknown work kind {kind!r}")
    kinds.permit(db, actor, kind, target=dedupe_key, payload=payload, deadline_seconds=deadline_seconds)
    return write_transaction(
        db,
        lambda session: _queue_once(
            session, kind=kind, payload=payload, actor=actor, response_url=response_url, dedupe_key=dedupe_key
        ),
        deadline_seconds=deadline_seconds,
    )


def _queue_once(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
    actor: Actor,
    response_url: str | None,
    dedupe_key: str,
) -> RequestOutcome:
    """The work item and its "queued" audit entry, in the caller's transaction (unless live or done)."""
    serialise_requests(session, f"{kind}|{dedupe_key}")
    live = _live_item(session, kind=kind, dedupe_key=dedupe_key)
    if live is not None:
        assert live.id is not None
        return AlreadyQueued(
            item_id=live.id,
            kind=kind,
            target=dedupe_key,
            requested_by=live.requested_by,
            requested_at=live.created_at,
            running=live.status == WorkStatus.RUNNING,
        )
    done = _already_done(session, kind=kind, target=dedupe_key)
    if done is not None:
        return AlreadyDone(kind=kind, target=dedupe_key, done=done)
    item = enqueue_work(
        session,
        kind=kind,
        payload={**payload, DEDUPE_KEY: dedupe_key, TARGET_KEY: dedupe_key},
        requested_by=actor.id,
        door=actor.door,
        response_url=response_url,
    )
    kinds.audit(session, actor=actor, action=kind, target=dedupe_key, result="queued")
    assert item.id is not None
    return Queued(item_id=item.id, kind=kind, target=dedupe_key)


def _live_item(session: Session, *, kind: str, dedupe_key: str) -> WorkItem | None:
    for item in live_work(session, kind=kind):
        if isinstance(item.payload, dict) and item.payload.get(DEDUPE_KEY) == dedupe_key:
            return item
    return None


def _already_done(session: Session, *, kind: str, target: str) -> SyncError | AuditEntry | None:
    error_id = target_error_id(target)
    if error_id is None or not kinds.settles(kind):
        return None
    error = get_error(session, error_id=error_id)
    if error is None:
        raise NotFound(say("failure.no_entry", id=error_id))
    if error.status == ErrorStatus.RESOLVED:
        return error
    if kinds.once_per_error(kind):
        return last_success(session, target=target, actions=(kind,))
    return None  # still open: a re-sync that worked before may be tried again after a new failure


def couple_references(db: Engine, *, error_id: int, reference: str) -> tuple[str, str]:
    """(bc_ref, dataverse_ref) coupling the error's record to the record `reference` names.

    `reference` names the other app's record (`account:<guid>`, a bare GUID, `customer:10000`); InvalidInput
    says what is wrong with it, NotFound when the error is gone.
    """
    with Session(db) as session:
        error = get_error(session, error_id=error_id)
    if error is None:
        raise NotFound(say("failure.no_entry", id=error_id))
    own_system = System(error.source_system)
    other_system = System.DATAVERSE if own_system is System.BUSINESS_CENTRAL else System.BUSINESS_CENTRAL
    own_id = error.source_id or (error.source_key if own_system is System.BUSINESS_CENTRAL else None)
    if not own_id:
        raise InvalidInput(say("failure.not_which_record_couple", id=error_id))
    own_ref = f"{error.source_table}:{own_id}"
    text_ref = reference.strip()
    other_table = error.destination_table if System(error.destination_system) is other_system else None
    if as_guid(text_ref) is not None and other_table:
        text_ref = f"{other_table}:{as_guid(text_ref)}"
    try:
        parsed = parse_ref(text_ref)
    except BadReference as bad:
        raise InvalidInput(bad.reason) from None
    if parsed.system is not None and parsed.system is not other_system:
        raise InvalidInput(say("failure.give_record", app=app(other_system), example=_example(other_system)))
    if other_system is System.DATAVERSE:
        return own_ref, parsed.text
    return parsed.text, own_ref


def candidate_references(db: Engine, *, error_id: int, index: int) -> tuple[str, str]:
    """(bc_ref, dataverse_ref) coupling a several-matches error's record to its candidate number `index`.

    The candidate is taken from the error as stored, never from what the button says; InvalidInput when the
    error has no such candidate, NotFound when the error is gone.
    """
    with Session(db) as session:
        error = get_error(session, error_id=error_id)
    if error is None:
        raise NotFound(say("failure.no_entry", id=error_id))
    candidates = (error.facts or {}).get("candidates") or []
    if error.category != Category.SEVERAL_MATCHES or not 0 <= index < len(candidates):
        raise InvalidInput(say("failure.no_candidate", id=error_id, number=index + 1))
    candidate = candidates[index]
    table = str((error.facts or {}).get("candidate_table") or error.destination_table)
    return couple_references(db, error_id=error_id, reference=f"{table}:{candidate['id']}")


def create_reference(db: Engine, *, error_id: int) -> str:
    """The reference of the record behind an error, to create its partner (Create New); NotFound when gone."""
    with Session(db) as session:
        error = get_error(session, error_id=error_id)
    if error is None:
        raise NotFound(say("failure.no_entry", id=error_id))
    system = System(error.source_system)
    own_id = error.source_id or (error.source_key if system is System.BUSINESS_CENTRAL else None)
    if not own_id:
        raise InvalidInput(say("failure.not_which_record_create", id=error_id))
    return f"{error.source_table}:{own_id}"


def _example(system: System) -> str:
    return "account:6f1c0c7e-…" if system is System.DATAVERSE else "customer:10000"
