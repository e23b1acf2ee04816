"""The leader's fencing token: every new leader raises it, so an older leader can tell it was replaced."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.models import LeaderFence
from storage.types import utcnow


def raise_fence(session: Session, *, name: str, holder: str, now: datetime | None = None) -> int:
    """Take the next fencing token of `name` for `holder` (the row is locked until the caller commits)."""
    row = session.exec(select(LeaderFence).where(LeaderFence.name == name).with_for_update()).first()
    if row is None:
        row = LeaderFence(name=name, token=0)
    row.token += 1
    row.holder = holder[:200]
    row.taken_at = now or utcnow()
    session.add(row)
    session.flush()
    return row.token


def current_fence(session: Session, *, name: str) -> LeaderFence | None:
    """The newest token of `name` and who holds it (None before the first leader)."""
    return session.exec(select(LeaderFence).where(LeaderFence.name == name)).first()
