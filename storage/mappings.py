"""Queries on the mappings: list in dependency order, get, schedule settings and watermarks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Mapping
from storage.types import utcnow


def list_mappings(session: Session, *, enabled_only: bool = False) -> list[Mapping]:
    """Return the mappings by position (dependency order), optionally only the enabled, unpaused ones."""
    query = select(Mapping)
    if enabled_only:
        query = query.where(col(Mapping.enabled).is_(True), col(Mapping.paused).is_(False))
    return list(session.exec(query.order_by(col(Mapping.position), col(Mapping.name))).all())


def mapping_names(session: Session) -> set[str]:
    """The names of every mapping row."""
    return set(session.exec(select(Mapping.name)).all())


def get_mapping(session: Session, *, name: str, lock: bool = False) -> Mapping | None:
    """Return one mapping by name (case-insensitive), or None; `lock`: FOR UPDATE (to the transaction end)."""
    query = select(Mapping).where(Mapping.name == name.upper())
    return session.exec(query.with_for_update() if lock else query).first()


def _required(session: Session, name: str) -> Mapping:
    mapping = get_mapping(session, name=name)
    if mapping is None:
        raise LookupError(f"no mapping named {name!r}")
    return mapping


def _change(session: Session, name: str, **values: Any) -> Mapping:
    mapping = _required(session, name)
    for field, value in values.items():
        setattr(mapping, field, value)
    mapping.updated_at = utcnow()
    session.add(mapping)
    session.flush()
    return mapping


def set_interval(session: Session, *, name: str, minutes: int | None) -> Mapping:
    """Set a mapping's sync interval in minutes (None: the default); LookupError for an unknown name."""
    if minutes is not None and minutes < 1:
        raise ValueError("the interval must be at least one minute")
    return _change(session, name, interval_minutes=minutes)


def set_paused(session: Session, *, name: str, paused: bool) -> Mapping:
    """Pause or resume a mapping's scheduled sync; raises LookupError for an unknown name."""
    return _change(session, name, paused=paused)


def set_sync_only_coupled(session: Session, *, name: str, only_coupled: bool) -> Mapping:
    """Set "Synch. Only Coupled Records"; cleared, new records get a partner; raises LookupError."""
    return _change(session, name, sync_only_coupled=only_coupled)


def advance_watermarks(
    session: Session,
    *,
    name: str,
    bc: datetime | None = None,
    dataverse: datetime | None = None,
) -> Mapping:
    """Move a mapping's watermarks forward (never back); None leaves a side as it is."""
    mapping = _required(session, name)
    if bc is not None and (mapping.bc_watermark is None or bc > mapping.bc_watermark):
        mapping.bc_watermark = bc
    if dataverse is not None and (
        mapping.dataverse_watermark is None or dataverse > mapping.dataverse_watermark
    ):
        mapping.dataverse_watermark = dataverse
    mapping.updated_at = utcnow()
    session.add(mapping)
    session.flush()
    return mapping


def reset_watermarks(session: Session, *, name: str) -> Mapping:
    """Forget both watermarks so the next incremental run reads every record."""
    mapping = _required(session, name)
    mapping.bc_watermark = None
    mapping.dataverse_watermark = None
    session.add(mapping)
    session.flush()
    return mapping


def record_run(session: Session, *, name: str, at: datetime | None = None) -> Mapping:
    """Note a finished run's time (failed runs in a row are counted by the health job, bot.jobs.health)."""
    mapping = _required(session, name)
    mapping.last_run_at = at or utcnow()
    session.add(mapping)
    session.flush()
    return mapping
