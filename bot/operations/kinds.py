"""The catalogue of what a person can do: one entry per action, read by every door and by the worker.

Each entry says who may do it, whether it settles the error it is done to, whether once per error is
enough, how it is audited, which buttons start it and, for work that calls a business app, its runner.
Slack buttons, slash commands, modals, the terminal and the worker ask `permit` before doing anything, so
the permission check (and its "refused" audit entry) exists once; `NotAllowed` carries the entry's key and
`bot.blocks.build_not_allowed` words it. Adding a button-backed action: one entry here, its runner, its words
(`bot.blocks.wording.refusal_verb` when only admins may, `Wording.work` when it is queued).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Union

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.ids import ActionId, ActionKey
from bot.operations.base import Actor, NotAllowed
from storage.audit import record_audit
from storage.db import write_transaction
from storage.mappings import list_mappings
from storage.models import SyncJob, Trigger

if TYPE_CHECKING:
    from bot.sync.actions import ActionOutcome, SyncActions
    from bot.sync.engine import SyncEngine


class Who(StrEnum):
    """Who may do an action."""

    ANYONE = "anyone"
    ADMINS = "admins"
    ADMINS_FOR_EVERYTHING = "admins_for_everything"  # named mappings: anyone; all of them at once: admins


class Audit(StrEnum):
    """How an action is audited (the action name of its entries is the catalogue key)."""

    QUEUED = "queued"  # "queued" when asked (bot.operations.requests), "ok"/"failed" when run (bot.worker)
    AT_ONCE = "at_once"  # one entry with the result, written by the operation that does it


@dataclass(frozen=True)
class WorkOrder:
    """A claimed item as a runner sees it: what, for whom, with which arguments."""

    item_id: int
    kind: str
    payload: dict[str, Any]
    actor: Actor

    def int_arg(self, name: str) -> int:
        """An integer argument of the payload (e.g. error_id)."""
        return int(self.payload[name])

    def str_arg(self, name: str, default: str | None = None) -> str | None:
        """A text argument of the payload, or `default`."""
        value = self.payload.get(name, default)
        return None if value is None else str(value)


@dataclass(frozen=True)
class Tools:
    """What runners call: the engine's record actions and the engine itself (for syncs)."""

    actions: SyncActions
    engine: SyncEngine


@dataclass(frozen=True)
class Then:
    """Two record actions, one after the other (couple, then re-sync the error's record)."""

    first: ActionOutcome
    then: ActionOutcome


@dataclass(frozen=True)
class Synced:
    """The jobs of a sync a runner started."""

    jobs: list[SyncJob]


Ran = Union["ActionOutcome", Then, Synced]  # what a runner returns; bot.worker makes its WorkOutcome
Runner = Callable[[Tools, WorkOrder], Ran]


@dataclass(frozen=True)
class Action:
    """One thing a person can do."""

    key: ActionKey
    who: Who
    settles: bool = False  # once done to an error, a repeat is pointless ("Already re-synced by @x")
    once_per_error: bool = False  # leaves the error open when it works (needs a re-sync): done once is enough
    buttons: tuple[ActionId, ...] = ()  # the buttons that start it (a modal opener, or queued at once)
    runner: Runner | None = field(default=None, compare=False)  # the worker's; None: done at once

    @property
    def queued(self) -> bool:
        """Whether it runs on the work queue (it calls a business app)."""
        return self.runner is not None

    @property
    def audit(self) -> Audit:
        """How it is audited: queued work by the queue and the worker, the rest by its operation."""
        return Audit.QUEUED if self.queued else Audit.AT_ONCE


# ---- the runners ---------------------------------------------------------------------------------------


def _resync(tools: Tools, order: WorkOrder) -> Ran:
    return tools.actions.resync(order.int_arg("error_id"), actor=order.actor.id)


def _resync_failed(tools: Tools, order: WorkOrder) -> Ran:
    return tools.actions.resync_failed(order.str_arg("mapping"), actor=order.actor.id)


def _couple(tools: Tools, order: WorkOrder) -> Ran:
    result = tools.actions.couple(
        order.str_arg("bc_ref") or "",
        order.str_arg("dataverse_ref") or "",
        sync=order.str_arg("sync", "none") or "none",  # type: ignore[arg-type]
        actor=order.actor.id,
    )
    if not result.ok or "error_id" not in order.payload:
        return result
    # Coupled from an error's message: re-run its record now (resolves the error, edits the message).
    return Then(result, tools.actions.resync(order.int_arg("error_id"), actor=order.actor.id))


def _couple_match(tools: Tools, order: WorkOrder) -> Ran:
    return tools.actions.couple_match(order.str_arg("mapping") or "", actor=order.actor.id)


def _couple_create(tools: Tools, order: WorkOrder) -> Ran:
    return tools.actions.couple_create(order.str_arg("ref") or "", actor=order.actor.id)


def _couple_dependency(tools: Tools, order: WorkOrder) -> Ran:
    return tools.actions.couple_dependency(order.int_arg("error_id"), actor=order.actor.id)


def _uncouple(tools: Tools, order: WorkOrder) -> Ran:
    ref = order.str_arg("ref")
    if ref is not None:
        return tools.actions.uncouple(ref, actor=order.actor.id)
    return tools.actions.remove_coupling(order.int_arg("error_id"), actor=order.actor.id)


def _restore_record(tools: Tools, order: WorkOrder) -> Ran:
    return tools.actions.restore_record(order.int_arg("error_id"), actor=order.actor.id)


def _delete_record(tools: Tools, order: WorkOrder) -> Ran:
    return tools.actions.delete_record(order.int_arg("error_id"), actor=order.actor.id)


def _keep_bc(tools: Tools, order: WorkOrder) -> Ran:
    return tools.actions.take_side(order.int_arg("error_id"), "business_central", actor=order.actor.id)


def _keep_dataverse(tools: Tools, order: WorkOrder) -> Ran:
    return tools.actions.take_side(order.int_arg("error_id"), "dataverse", actor=order.actor.id)


def _sync(tools: Tools, order: WorkOrder) -> Ran:
    names = [str(name) for name in order.payload.get("mappings") or []]
    return Synced(tools.engine.run(names or None, full=bool(order.payload.get("full")), trigger=Trigger.USER))


# ---- the catalogue -------------------------------------------------------------------------------------

_K, _B, _A = ActionKey, ActionId, Action
_ADMINS, _ANYONE = Who.ADMINS, Who.ANYONE
CATALOGUE: Mapping[ActionKey, Action] = {
    action.key: action
    for action in (
        _A(_K.RESYNC, _ANYONE, settles=True, buttons=(_B.RESYNC,), runner=_resync),
        _A(_K.RESYNC_FAILED, _ANYONE, runner=_resync_failed),
        _A(_K.COUPLE, _ADMINS, settles=True, buttons=(_B.COUPLE, _B.COUPLE_CANDIDATE), runner=_couple),
        _A(_K.COUPLE_MATCH, _ADMINS, runner=_couple_match),
        _A(_K.COUPLE_CREATE, _ADMINS, buttons=(_B.COUPLE_CREATE,), runner=_couple_create),
        _A(_K.COUPLE_DEPENDENCY, _ADMINS, settles=True, once_per_error=True, runner=_couple_dependency,
           buttons=(_B.COUPLE_DEPENDENCY,)),
        _A(_K.UNCOUPLE, _ADMINS, settles=True, buttons=(_B.UNCOUPLE,), runner=_uncouple),
        _A(_K.RESTORE_RECORD, _ADMINS, settles=True, buttons=(_B.RESTORE_RECORD,), runner=_restore_record),
        _A(_K.DELETE_RECORD, _ADMINS, settles=True, buttons=(_B.DELETE_RECORD,), runner=_delete_record),
        _A(_K.KEEP_BC, _ANYONE, settles=True, buttons=(_B.KEEP_BC,), runner=_keep_bc),
        _A(_K.KEEP_DATAVERSE, _ANYONE, settles=True, buttons=(_B.KEEP_DATAVERSE,), runner=_keep_dataverse),
        _A(_K.SYNC, Who.ADMINS_FOR_EVERYTHING, runner=_sync),
        _A(_K.RUN, _ADMINS, runner=_sync),
        _A(_K.SNOOZE, _ANYONE, buttons=(_B.SNOOZE,)),
        _A(_K.DELETE_ERROR, _ADMINS, buttons=(_B.DELETE_ERROR,)),
        _A(_K.PURGE_OLDER_THAN, _ADMINS, buttons=(_B.PURGE_OLDER_THAN,)),
        _A(_K.PURGE_ALL, _ADMINS, buttons=(_B.PURGE_ALL,)),
        _A(_K.SCHEDULE, _ADMINS),
        _A(_K.PAUSE, _ADMINS),
        _A(_K.RESUME, _ADMINS),
        _A(_K.MAPPING_SET, _ADMINS),
    )
}  # fmt: skip
QUEUED_KINDS = frozenset(key for key, entry in CATALOGUE.items() if entry.queued)


def entry(key: str) -> Action:
    """The catalogue entry of `key`; ValueError for a key the bot does not know."""
    try:
        return CATALOGUE[ActionKey(key)]
    except ValueError:
        raise ValueError(f"unknown action {key!r}") from None


def known(key: str) -> bool:
    """Whether `key` is a catalogue key."""
    return key in ActionKey.__members__.values()


def settles(key: str) -> bool:
    """Whether the action, once done to an error, makes a repeat pointless (unknown keys: no)."""
    return known(key) and entry(key).settles


def once_per_error(key: str) -> bool:
    """Whether doing the action to an error once is enough, even while the error stays open."""
    return known(key) and entry(key).once_per_error


def by_button() -> dict[ActionId, Action]:
    """The catalogue entry each button starts."""
    return {button: action for action in CATALOGUE.values() for button in action.buttons}


# ---- permission and audit ------------------------------------------------------------------------------


def needs_admin(key: str, payload: Mapping[str, Any], *, everything: Collection[str] | None = None) -> bool:
    """Whether only admins may do this; decided by effect, not wording.

    A sync without names syncs everything; so does a sync that names every mapping "everything" would run
    (`everything`: the enabled, unpaused mapping names), however it is spelled.
    """
    who = entry(key).who
    if who is Who.ADMINS_FOR_EVERYTHING:
        named = {str(name).upper() for name in payload.get("mappings") or []}
        return not named or bool(everything) and {name.upper() for name in everything or ()} <= named
    return who is Who.ADMINS


def mappings_of_everything(db: Engine) -> list[str]:
    """The mapping names a sync of everything runs (enabled, unpaused)."""
    with Session(db) as session:
        return [mapping.name for mapping in list_mappings(session, enabled_only=True)]


def may(db: Engine, actor: Actor, key: str, payload: Mapping[str, Any] | None = None) -> bool:
    """Whether `actor` may do `key` now (`payload`: for actions decided by effect); nothing is written."""
    if actor.is_admin:
        return True
    action = entry(key)
    everything = mappings_of_everything(db) if action.who is Who.ADMINS_FOR_EVERYTHING else None
    return not needs_admin(key, payload or {}, everything=everything)


def permit(
    db: Engine,
    actor: Actor,
    key: str,
    *,
    target: str | None,
    payload: Mapping[str, Any] | None = None,
    deadline_seconds: float | None = None,
) -> None:
    """Refuse with NotAllowed(key), after writing the "refused" audit entry, unless `actor` may do `key`."""
    if may(db, actor, key, payload):
        return
    write_transaction(
        db,
        lambda session: audit(
            session, actor=actor, action=key, target=target, result="refused", detail="not a sync admin"
        ),
        deadline_seconds=deadline_seconds,
    )
    raise NotAllowed(key)


def audit(
    session: Session, *, actor: Actor, action: str, target: str | None, result: str, detail: str = ""
) -> None:
    """Write one audit entry of `action` (a catalogue key) in the caller's transaction."""
    record_audit(
        session,
        actor=actor.id,
        door=actor.door,
        action=action,
        target=target,
        result=result,
        detail=detail,
    )
