"""Record actions run right away (the terminal's path): check the catalogue, call the engine, audit it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine

from bot.operations import kinds
from bot.operations.base import Actor
from bot.sync.actions import ActionOutcome
from storage.db import session_scope


def perform(
    db: Engine, *, actor: Actor, action: str, target: str, call: Callable[[], ActionOutcome]
) -> ActionOutcome:
    """Check the actor may do `action` (a catalogue key), run `call`, and audit its result."""
    kinds.permit(db, actor, action, target=target)
    try:
        outcome = call()
    except Exception as error:
        _audit(db, actor=actor, action=action, target=target, result="failed", detail=str(error)[:500])
        raise
    # A fix that does not apply to the error's state changed nothing: refused, not failed.
    result = "ok" if outcome.ok else "refused" if outcome.refused else "failed"
    _audit(db, actor=actor, action=action, target=target, result=result, detail=outcome.message[:500])
    return outcome


def _audit(db: Engine, *, actor: Actor, action: str, target: str, result: str, detail: str) -> None:
    with session_scope(db) as session:
        kinds.audit(session, actor=actor, action=action, target=target, result=result, detail=detail)
