"""The audit trail: who did what, when, through which door, with which result."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import AuditEntry, Door


def record_audit(
    session: Session,
    *,
    actor: str,
    door: Door,
    action: str,
    result: str,
    target: str | None = None,
    detail: str = "",
) -> AuditEntry:
    """Add one audit entry (committed with the caller's transaction)."""
    entry = AuditEntry(actor=actor, door=door, action=action, result=result, target=target, detail=detail)
    session.add(entry)
    session.flush()
    return entry


def list_audit(session: Session, *, target: str | None = None, limit: int = 50) -> list[AuditEntry]:
    """Return audit entries newest first, optionally only those about one target (e.g. "error:17")."""
    query = select(AuditEntry)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    query = query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
    return list(session.exec(query).all())


def done_since(session: Session, *, action: str, since: datetime) -> bool:
    """True when the audit trail has an entry of `action` at or after `since`."""
    query = select(AuditEntry.id).where(AuditEntry.action == action, col(AuditEntry.at) >= since)
    return session.exec(query.limit(1)).first() is not None


def last_success(session: Session, *, target: str, actions: tuple[str, ...]) -> AuditEntry | None:
    """Return the newest successful entry of one of `actions` on `target` (who already did it)."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.target == target, col(AuditEntry.action).in_(actions), AuditEntry.result == "ok")
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(1)
    )
    return session.exec(query).first()
