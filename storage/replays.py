"""Signed requests already seen: one row per request signature, kept for Slack's 5-minute window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from storage.models import SeenRequest


def remember_request(session: Session, *, key: str, now: datetime) -> bool:
    """Record `key` as seen; True when it is new, False when it was already there (a replay)."""
    dialect = session.get_bind().dialect.name
    values = {"key": key, "seen_at": now}
    statement: Any
    if dialect == "postgresql":
        statement = pg_insert(SeenRequest).values(values).on_conflict_do_nothing(index_elements=["key"])
    elif dialect == "sqlite":
        statement = sqlite_insert(SeenRequest).values(values).on_conflict_do_nothing(index_elements=["key"])
    else:  # pragma: no cover - the two stores we support are above
        statement = insert(SeenRequest).values(values)
    # RETURNING says whether a row went in (rowcount of ON CONFLICT DO NOTHING is not reliable on psycopg).
    return session.execute(statement.returning(SeenRequest.key)).first() is not None  # type: ignore[arg-type]


_SEEN = select(col(SeenRequest.key)).where(col(SeenRequest.key) == bindparam("key")).limit(1)


def was_seen(connection: Connection, *, key: str) -> bool:
    """True when `key` was recorded (by any process): a plain read, as it runs before every ack."""
    return connection.execute(_SEEN, {"key": key}).first() is not None


def forget_requests(session: Session, *, before: datetime) -> int:
    """Delete the rows of requests seen before `before` (outside the replay window); return how many."""
    statement = delete(SeenRequest).where(col(SeenRequest.seen_at) < before)
    return int(session.exec(statement).rowcount or 0)
