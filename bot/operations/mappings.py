"""The mappings' settings as people see and change them: `mappings`, `mappings MAPPING set SETTING VALUE`.

A listing is (setting, value) rows per mapping, so settings added later (table filters) are rows too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.commands import parse_duration
from bot.ids import ActionKey
from bot.operations import kinds, schedule
from bot.operations.base import Actor, InvalidInput
from bot.phrases import say
from bot.sync.mappings import SPECS
from storage import mappings as mapping_store
from storage.db import session_scope
from storage.mapping_settings import update_mapping
from storage.models import DeletionConflictResolution, Direction, Mapping, UpdateConflictResolution

AUDIT_ACTION = ActionKey.MAPPING_SET
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class MappingSettings:
    """One mapping's tables and its settings as (setting, value) rows, in a stable order."""

    name: str
    bc_table: str
    dataverse_table: str
    rows: list[tuple[str, str]]


@dataclass(frozen=True)
class Setting:
    """One changeable setting: the words it accepts and how they become the stored value."""

    name: str
    accepts: str
    read: Callable[[Mapping], str]


def _interval(mapping: Mapping, default_minutes: int) -> str:
    minutes = mapping.interval_minutes
    return f"{minutes}m" if minutes else f"default ({default_minutes}m)"


SETTINGS: tuple[Setting, ...] = (
    Setting("direction", "to_dataverse, from_dataverse or bidirectional", lambda m: str(m.direction)),
    Setting("sync_only_coupled", "true or false", lambda m: "true" if m.sync_only_coupled else "false"),
    Setting("deletion_conflict", "none, restore or remove_coupling", lambda m: str(m.deletion_conflict)),
    Setting("update_conflict", "none, business_central or dataverse", lambda m: str(m.update_conflict)),
    Setting("interval", "a duration such as 15m or 2h, or default", lambda m: ""),  # read with the default
    Setting("enabled", "true or false", lambda m: "true" if m.enabled else "false"),
    Setting("paused", "true or false", lambda m: "true" if m.paused else "false"),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}


def list_settings(db: Engine, *, default_minutes: int = 30) -> list[MappingSettings]:
    """Every mapping's settings in dependency order."""
    with Session(db) as session:
        rows = mapping_store.list_mappings(session)
    return [_settings_of(mapping, default_minutes) for mapping in rows]


def _settings_of(mapping: Mapping, default_minutes: int) -> MappingSettings:
    rows = [
        (
            setting.name,
            _interval(mapping, default_minutes) if setting.name == "interval" else setting.read(mapping),
        )
        for setting in SETTINGS
    ]
    spec = SPECS.get(mapping.name)
    if spec is not None:  # Business Central's default table filters (shown, not changed here)
        rows.append(("table_filter", spec.bc.filter_text or "all records"))
        rows.append(("integration_table_filter", spec.dataverse.filter_text or "all records"))
    return MappingSettings(mapping.name, mapping.bc_table, mapping.dataverse_table, rows)


def allowed_directions(name: str) -> tuple[Direction, ...]:
    """A bidirectional mapping may also run one way; a one-way mapping (e.g. SALESPEOPLE) only its way."""
    spec = SPECS.get(name)
    if spec is None or spec.direction is not Direction.BIDIRECTIONAL:
        return (spec.direction,) if spec else tuple(Direction)
    return tuple(Direction)


def set_setting(db: Engine, mapping: str, setting: str, value: str, actor: Actor) -> MappingSettings:
    """Change one setting of one mapping (sync admins only), audited; InvalidInput says what is right."""
    name = mapping.strip().upper()
    key = setting.strip().lower().replace("-", "_")
    if key not in BY_NAME:
        raise InvalidInput(say("failure.no_setting", setting=repr(setting), settings=", ".join(BY_NAME)))
    if key == "interval":
        return _set_interval(db, name, value, actor)
    if key == "paused":
        (schedule.pause if _boolean(value, key) else schedule.resume)(db, name, actor)
        return _one(db, name)
    kinds.permit(db, actor, AUDIT_ACTION, target=name)
    stored = _parse(name, key, value)
    with session_scope(db) as session:
        row = schedule.known_mapping(session, name)
        was = BY_NAME[key].read(row)
        update_mapping(session, name=row.name, **{key: stored})
        kinds.audit(
            session, actor=actor, action=AUDIT_ACTION, target=row.name, result="ok",
            detail=f"{key}: {was} → {BY_NAME[key].read(row)}",
        )  # fmt: skip
    return _one(db, name)


def _set_interval(db: Engine, name: str, value: str, actor: Actor) -> MappingSettings:
    if value.strip().lower() == "default":
        kinds.permit(db, actor, ActionKey.SCHEDULE, target=name)
        with session_scope(db) as session:
            row = schedule.known_mapping(session, name)
            mapping_store.set_interval(session, name=row.name, minutes=None)
            kinds.audit(session, actor=actor, action="schedule", target=row.name,
                         result="ok", detail="back to the default interval")  # fmt: skip
        return _one(db, name)
    try:
        every: timedelta = parse_duration(value)
    except ValueError as error:
        raise InvalidInput(say("failure.interval", reason=str(error))) from None
    schedule.set_interval(db, name, every, actor)
    return _one(db, name)


def _one(db: Engine, name: str) -> MappingSettings:
    return next(item for item in list_settings(db) if item.name == name)


def _boolean(value: str, key: str) -> bool:
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise InvalidInput(say("failure.true_false", key=key, value=repr(value)))


def _parse(name: str, key: str, value: str) -> Any:
    word = value.strip().lower().replace("-", "_")
    if key in ("sync_only_coupled", "enabled"):
        return _boolean(value, key)
    if key == "direction":
        allowed = allowed_directions(name)
        if word not in {direction.value for direction in allowed}:
            if len(allowed) == 1:
                raise InvalidInput(
                    say("failure.only_runs", mapping=name, direction=allowed[0].value, value=repr(value))
                )
            raise InvalidInput(
                say(
                    "failure.one_of", key="direction", accepts=BY_NAME["direction"].accepts, value=repr(value)
                )
            )
        return Direction(word)
    if key == "deletion_conflict":
        return _choice(DeletionConflictResolution, word, key, value)
    aliases = {"bc": "business_central", "sales": "dataverse"}
    return _choice(UpdateConflictResolution, aliases.get(word, word), key, value)


def _choice(kind: Any, word: str, key: str, value: str) -> Any:
    try:
        return kind(word)
    except ValueError:
        raise InvalidInput(
            say("failure.one_of", key=key, accepts=BY_NAME[key].accepts, value=repr(value))
        ) from None
