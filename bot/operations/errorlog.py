"""Reading and cleaning the error log: list, show, count, purge, snooze, delete one entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.operations.base import Actor, InvalidInput, NotFound, require_admin
from storage.audit import list_audit, record_audit
from storage.db import session_scope
from storage.errors import PurgeResult, count_errors, get_error, list_errors, purge_errors, snooze_error
from storage.models import AuditEntry, ErrorStatus, NotificationKind, SyncError
from storage.outbox import enqueue
from storage.types import utcnow


def find_errors(
    engine: Engine,
    *,
    status: ErrorStatus | None,
    mapping: str | None = None,
    category: str | None = None,
    limit: int = 20,
    before_id: int | None = None,
) -> list[SyncError]:
    """Return errors newest first (status None = all)."""
    with Session(engine) as session:
        return list_errors(
            session, status=status, mapping=mapping, category=category, limit=limit, before_id=before_id
        )


def load_error(engine: Engine, *, error_id: int) -> SyncError:
    """Return one error or raise NotFound naming the id."""
    with Session(engine) as session:
        error = get_error(session, error_id=error_id)
    if error is None:
        raise NotFound(f"There is no error entry #{error_id} (it may have been purged).")
    return error


def audit_trail(engine: Engine, *, error_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
    """Return the audit trail newest first, optionally only about one error."""
    with Session(engine) as session:
        return list_audit(session, target=f"error:{error_id}" if error_id is not None else None, limit=limit)


def purge_cutoff(older_than: timedelta | None, *, now: datetime | None = None) -> datetime | None:
    """Turn "older than 7 days" into the creation time before which entries go (None: all)."""
    if older_than is None:
        return None
    return (now or utcnow()) - older_than


def count_purgeable(engine: Engine, *, older_than: timedelta | None) -> int:
    """How many entries a purge with this age would delete."""
    with Session(engine) as session:
        return count_errors(session, older_than=purge_cutoff(older_than))


def purge(
    engine: Engine,
    *,
    older_than: timedelta | None,
    actor: Actor,
    channel: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> PurgeResult:
    """Delete error entries older than `older_than` (all when None), audit it and tell the channel."""
    what = "all entries" if older_than is None else f"entries older than {_words(older_than)}"
    require_admin(actor, f"delete {what}")
    result = purge_errors(engine, older_than=purge_cutoff(older_than), on_progress=on_progress)
    with session_scope(engine) as session:
        record_audit(
            session,
            actor=actor.id,
            door=actor.door,
            action="purge_all" if older_than is None else "purge_older_than",
            target="errors",
            result="ok",
            detail=f"deleted {result.deleted} {what}",
        )
        if channel and result.deleted:
            text = f"🧹 {actor.mention} deleted {result.deleted:,} error {_entries(result.deleted)} ({what})."
            enqueue(session, kind=NotificationKind.TEXT, channel=channel, payload={"text": text})
    return result


def snooze(engine: Engine, *, error_id: int, duration: timedelta, actor: Actor) -> SyncError:
    """Hide an error's notifications for `duration`; the Slack message is edited to say until when."""
    with session_scope(engine) as session:
        error = get_error(session, error_id=error_id)
        if error is None:
            raise NotFound(f"There is no error entry #{error_id} (it may have been purged).")
        if error.status == ErrorStatus.RESOLVED:
            raise InvalidInput(
                f"Error #{error_id} is resolved, so there is nothing to snooze; nothing changed. "
                "Snooze applies to open errors."
            )
        snooze_error(session, error=error, until=utcnow() + duration, by=actor.id)
        record_audit(
            session,
            actor=actor.id,
            door=actor.door,
            action="snooze",
            target=f"error:{error_id}",
            result="ok",
            detail=f"snoozed for {_words(duration)}",
        )
        if error.slack_channel:
            enqueue(session, kind=NotificationKind.UPDATE, channel=error.slack_channel, error_id=error_id)
        return error


def delete_entry(engine: Engine, *, error_id: int, actor: Actor) -> SyncError:
    """Delete one error entry (the records stay as they are); its Slack message says so."""
    require_admin(actor, "delete error entries")
    with session_scope(engine) as session:
        error = get_error(session, error_id=error_id)
        if error is None:
            raise NotFound(f"There is no error entry #{error_id} (it may have been purged).")
        session.delete(error)
        record_audit(
            session,
            actor=actor.id,
            door=actor.door,
            action="delete_error",
            target=f"error:{error_id}",
            result="ok",
            detail=error.message,
        )
        if error.slack_channel and error.slack_ts:
            text = f"🗑️ Entry #{error_id} was deleted by {actor.mention}."
            enqueue(
                session,
                kind=NotificationKind.TEXT,
                channel=error.slack_channel,
                payload={"text": text, "thread_ts": error.slack_ts},
            )
        return error


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"


def _words(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"
