"""Reading and cleaning the error log: list, show, count, purge, snooze, delete one entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.ids import ActionKey
from bot.operations import kinds
from bot.operations.base import Actor, InvalidInput, NotFound
from bot.phrases import say
from storage.audit import list_audit
from storage.db import session_scope
from storage.errors import (
    PurgeScope,
    count_errors,
    get_error,
    list_errors,
    purge_errors,
    purge_scope,
    snooze_error,
)
from storage.models import AuditEntry, ErrorStatus, NotificationKind, SyncError
from storage.outbox import enqueue, enqueue_edit
from storage.types import utcnow


def find_errors(
    engine: Engine,
    *,
    status: ErrorStatus | None,
    mapping: str | None = None,
    category: str | None = None,
    limit: int = 20,
    before_id: int | None = None,
    listed_only: bool = False,
) -> list[SyncError]:
    """Return errors newest first (status None = all); `listed_only`: only what a Slack list shows."""
    with Session(engine) as session:
        return list_errors(
            session,
            status=status,
            mapping=mapping,
            category=category,
            limit=limit,
            before_id=before_id,
            listed_only=listed_only,
        )


def load_error(engine: Engine, *, error_id: int) -> SyncError:
    """Return one error or raise NotFound naming the id."""
    with Session(engine) as session:
        error = get_error(session, error_id=error_id)
    if error is None:
        raise NotFound(say("failure.no_entry", id=error_id))
    return error


def audit_trail(engine: Engine, *, error_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
    """Return the audit trail newest first, optionally only about one error."""
    with Session(engine) as session:
        return list_audit(session, target=f"error:{error_id}" if error_id is not None else None, limit=limit)


def purge_cutoff(older_than: timedelta | None, *, now: datetime | None = None) -> datetime | None:
    """Turn "older than 7 days" into the last-seen time before which entries go (None: all)."""
    if older_than is None:
        return None
    return (now or utcnow()) - older_than


@dataclass(frozen=True)
class PurgePreview:
    """What a purge confirmation shows: its age, the scope fixed at that moment, and the count."""

    older_than: timedelta | None
    scope: PurgeScope
    count: int

    def to_json(self) -> str:
        """The preview as kept on the server while the confirmation is open."""
        return json.dumps(
            {
                "older_than_seconds": int(self.older_than.total_seconds()) if self.older_than else None,
                "cutoff": self.scope.cutoff.isoformat() if self.scope.cutoff else None,
                "upto_id": self.scope.upto_id,
                "count": self.count,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> PurgePreview | None:
        """Read a kept preview back; None when it is not one."""
        try:
            data = json.loads(text)
            seconds = data["older_than_seconds"]
            cutoff = datetime.fromisoformat(data["cutoff"]) if data["cutoff"] else None
            scope = PurgeScope(cutoff=cutoff, upto_id=int(data["upto_id"]))
            older = timedelta(seconds=int(seconds)) if seconds is not None else None
            return cls(older_than=older, scope=scope, count=int(data["count"]))
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class PurgeReport:
    """How many entries a purge deleted and how many its confirmation announced."""

    deleted: int
    announced: int | None
    chunks: int = 0
    longest_transaction: float = 0.0

    @property
    def stayed(self) -> int:
        """Announced entries that were not deleted (seen again since the count, or already gone)."""
        return max(0, (self.announced or 0) - self.deleted) if self.announced is not None else 0


def preview_purge(engine: Engine, *, older_than: timedelta | None) -> PurgePreview:
    """Fix a purge's cutoff and the newest entry now, and count what it would delete."""
    with Session(engine) as session:
        scope = purge_scope(session, cutoff=purge_cutoff(older_than))
        return PurgePreview(older_than=older_than, scope=scope, count=count_errors(session, scope=scope))


def count_purgeable(engine: Engine, *, older_than: timedelta | None) -> int:
    """How many entries a purge with this age would delete now."""
    return preview_purge(engine, older_than=older_than).count


PURGE_SHOWN = "purge_shown"
PURGE_CONFIRMED = "purge_confirmed"
PURGE_TARGET = "errors"  # the audit target of a purge


def remember_shown(engine: Engine, *, view_id: str, preview: PurgePreview, actor: Actor) -> None:
    """Keep on the server what a purge confirmation (a Slack modal) showed, keyed by its view id."""
    with session_scope(engine) as session:
        kinds.audit(
            session,
            actor=actor,
            action=PURGE_SHOWN,
            target=f"view:{view_id}",
            result="shown",
            detail=preview.to_json(),
        )


def shown_purge(engine: Engine, *, view_id: str) -> PurgePreview | None:
    """What the confirmation with this view id showed, while it has not been confirmed yet."""
    with Session(engine) as session:
        latest = list_audit(session, target=f"view:{view_id}", limit=1)
    if not latest or latest[0].action != PURGE_SHOWN:
        return None
    return PurgePreview.from_json(latest[0].detail)


def purge_action(older_than: timedelta | None) -> ActionKey:
    """The catalogue key of a purge: of every entry (None), or of entries older than `older_than`."""
    return ActionKey.PURGE_ALL if older_than is None else ActionKey.PURGE_OLDER_THAN


def purge(
    engine: Engine,
    *,
    older_than: timedelta | None = None,
    preview: PurgePreview | None = None,
    actor: Actor,
    channel: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    view_id: str | None = None,
) -> PurgeReport:
    """Delete what `preview` counted (or, without one, entries not seen for `older_than`; all when None),
    audit it and tell the channel. New errors and errors seen again since the count stay."""
    if preview is not None:
        older_than = preview.older_than
    what = "all entries" if older_than is None else f"entries not seen for {_words(older_than)}"
    kinds.permit(engine, actor, purge_action(older_than), target=PURGE_TARGET)
    if preview is None:
        preview = preview_purge(engine, older_than=older_than)
        announced = None
    else:
        announced = preview.count
    result = purge_errors(engine, scope=preview.scope, on_progress=on_progress)
    report = PurgeReport(
        deleted=result.deleted,
        announced=announced,
        chunks=result.chunks,
        longest_transaction=result.longest_transaction,
    )
    detail = f"deleted {result.deleted} {what}"
    if report.stayed:
        detail += f" ({report.stayed} of the {announced} counted were seen again since, or already gone)"
    with session_scope(engine) as session:
        if view_id is not None:
            kinds.audit(
                session,
                actor=actor,
                action=PURGE_CONFIRMED,
                target=f"view:{view_id}",
                result="ok",
                detail=detail,
            )
        kinds.audit(
            session,
            actor=actor,
            action=purge_action(older_than),
            target=PURGE_TARGET,
            result="ok",
            detail=detail,
        )
        if channel and result.deleted:
            text = f"🧹 {actor.mention} deleted {result.deleted:,} error {_entries(result.deleted)} ({what})."
            enqueue(session, kind=NotificationKind.TEXT, channel=channel, payload={"text": text})
    return report


def snooze(engine: Engine, *, error_id: int, duration: timedelta, actor: Actor) -> SyncError:
    """Hide an error's notifications for `duration`; the Slack message is edited to say until when."""
    with session_scope(engine) as session:
        error = get_error(session, error_id=error_id)
        if error is None:
            raise NotFound(say("failure.no_entry", id=error_id))
        if error.status == ErrorStatus.RESOLVED:
            raise InvalidInput(say("failure.snooze_resolved", id=error_id))
        snooze_error(session, error=error, until=utcnow() + duration, by=actor.id)
        kinds.audit(
            session,
            actor=actor,
            action="snooze",
            target=f"error:{error_id}",
            result="ok",
            detail=f"snoozed for {_words(duration)}",
        )
        enqueue_edit(session, error=error)
        return error


def delete_entry(engine: Engine, *, error_id: int, actor: Actor) -> SyncError:
    """Delete one error entry (the records stay as they are); its Slack message says so."""
    kinds.permit(engine, actor, ActionKey.DELETE_ERROR, target=f"error:{error_id}")
    with session_scope(engine) as session:
        error = get_error(session, error_id=error_id)
        if error is None:
            raise NotFound(say("failure.no_entry", id=error_id))
        session.delete(error)
        kinds.audit(
            session,
            actor=actor,
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
