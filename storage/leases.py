"""One synchronization run per mapping: a lease row per mapping, taken, renewed and released by its run."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from storage.models import SyncLease, Trigger


def take_lease(
    session: Session,
    *,
    mapping: str,
    holder: str,
    trigger: Trigger,
    now: datetime,
    ttl: timedelta,
    holder_is_dead: bool = False,
) -> SyncLease | None:
    """Take the mapping's lease (free, expired, or left by a dead holder); return None, or the live lease.

    Compare-and-set on the row (or the primary key for a new one), so two processes never both get it.
    """
    current = session.get(SyncLease, mapping)
    if current is None:
        try:
            with session.begin_nested():
                session.add(
                    SyncLease(
                        mapping=mapping, holder=holder, trigger=trigger, started_at=now, expires_at=now + ttl
                    )
                )
        except IntegrityError:
            current = session.get(SyncLease, mapping)
            return current
        return None
    if current.holder != holder and current.expires_at > now and not holder_is_dead:
        return current
    taken = session.execute(
        update(SyncLease)
        .where(
            col(SyncLease.mapping) == mapping,
            col(SyncLease.holder) == current.holder,
            col(SyncLease.expires_at) == current.expires_at,
        )
        .values(holder=holder, trigger=trigger, started_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    session.expire(current)
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return session.get(SyncLease, mapping)
    return None


def get_lease(session: Session, *, mapping: str) -> SyncLease | None:
    """The lease of a mapping, or None."""
    return session.get(SyncLease, mapping)


def renew_lease(session: Session, *, mapping: str, holder: str, until: datetime) -> bool:
    """Push the lease's expiry out; False when the holder lost it."""
    renewed = session.execute(
        update(SyncLease)
        .where(col(SyncLease.mapping) == mapping, col(SyncLease.holder) == holder)
        .values(expires_at=until)
        .execution_options(synchronize_session=False)
    )
    return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]


def release_lease(session: Session, *, mapping: str, holder: str) -> None:
    """Give the lease back (only the holder's own)."""
    lease = session.get(SyncLease, mapping)
    if lease is not None and lease.holder == holder:
        session.delete(lease)
        session.flush()
