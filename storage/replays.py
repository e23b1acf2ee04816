"""Signed requests already seen: one row per request signature, kept for Slack's 5-minute window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from storage.models import SeenRequest


def _insert_new(session: Session) -> Any:
    """INSERT into seenrequest that leaves a key already there as it is."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert(SeenRequest).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "sqlite":
        return sqlite_insert(SeenRequest).on_conflict_do_nothing(index_elements=["key"])
    return insert(SeenRequest)  # pragma: no cover - the two stores we support are above


def remember_requests(session: Session, seen: Mapping[str, datetime]) -> None:
    """Record many keys as seen in one statement (keys already there stay as they are)."""
    if seen:
        session.execute(_insert_new(session), [{"key": key, "seen_at": at} for key, at in seen.items()])


_SEEN = select(col(SeenRequest.key)).where(col(SeenRequest.key) == bindparam("key")).limit(1)


def was_seen(connection: Connection, *, key: str) -> bool:
    """True when `key` was recorded (by any process): a plain read, as it runs before every ack."""
    return connection.execute(_SEEN, {"key": key}).first() is not None


def forget_requests(session: Session, *, before: datetime) -> int:
    """Delete the rows of requests seen before `before` (outside the replay window); return how many."""
    statement = delete(SeenRequest).where(col(SeenRequest.seen_at) < before)
    return int(session.exec(statement).rowcount or 0)
