"""Record actions run right away (the terminal's path): call the engine's action and audit the outcome."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine

from bot.operations.base import Actor, require_admin
from bot.sync.actions import ActionOutcome
from storage.audit import record_audit
from storage.db import session_scope

# Actions only SYNC_ADMINS may take, with the words of their refusal.
ADMIN_ACTIONS = {
    "couple": "couple records",
    "couple_match": "couple records",
    "couple_dependency": "couple records",
    "uncouple": "remove couplings",
    "remove_coupling": "remove couplings",
    "restore_record": "restore records",
    "delete_record": "delete records",
    "sync_all": "synchronize every mapping",
}


def perform(
    db: Engine, *, actor: Actor, action: str, target: str, call: Callable[[], ActionOutcome]
) -> ActionOutcome:
    """Check the actor may, run `call`, and write the audit entry with its result."""
    if action in ADMIN_ACTIONS:
        try:
            require_admin(actor, ADMIN_ACTIONS[action])
        except Exception:
            _audit(db, actor=actor, action=action, target=target, result="refused", detail="not a sync admin")
            raise
    try:
        outcome = call()
    except Exception as error:
        _audit(db, actor=actor, action=action, target=target, result="failed", detail=str(error)[:500])
        raise
    _audit(
        db,
        actor=actor,
        action=action,
        target=target,
        # A fix that does not apply to the error's state changed nothing: refused, not failed.
        result="ok" if outcome.ok else "refused" if outcome.refused else "failed",
        detail=outcome.message[:500],
    )
    return outcome


def _audit(db: Engine, *, actor: Actor, action: str, target: str, result: str, detail: str) -> None:
    with session_scope(db) as session:
        record_audit(
            session,
            actor=actor.id,
            door=actor.door,
            action=action,
            target=target,
            result=result,
            detail=detail,
        )
