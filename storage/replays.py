"""Signed requests already seen: one row per request signature, kept for Slack's 5-minute window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from storage.models import SeenRequest

_TABLE: Any = SeenRequest.__table__  # type: ignore[attr-defined]


def _insert_new(session: Session) -> Any:
    """INSERT into seenrequest that leaves a key already there as it is.

    On the table, not the model: the ORM's bulk insert around the same statement cost a web worker about a
    tenth of its interpreter time under load (the keys are written every FLUSH_SECONDS by bot.front).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert(_TABLE).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "sqlite":
        return sqlite_insert(_TABLE).on_conflict_do_nothing(index_elements=["key"])
    return insert(_TABLE)  # pragma: no cover - the two stores we support are above


def remember_requests(session: Session, seen: Mapping[str, datetime]) -> None:
    """Record many keys as seen in one statement (keys already there stay as they are)."""
    if seen:
        session.execute(_insert_new(session), [{"key": key, "seen_at": at} for key, at in seen.items()])


_SEEN = text(f"SELECT 1 FROM {SeenRequest.__tablename__} WHERE key = :key LIMIT 1")
_SEEN_BY_DIALECT: dict[tuple[str, str], tuple[str, bool]] = {}


def _seen_statement(db: Engine) -> tuple[str, bool]:
    """_SEEN in the DBAPI's own SQL and whether its parameter is positional (compiled once per dialect)."""
    dialect = db.dialect
    name = (dialect.name, dialect.driver)
    if name not in _SEEN_BY_DIALECT:
        _SEEN_BY_DIALECT[name] = (str(_SEEN.compile(dialect=dialect)), bool(dialect.positional))
    return _SEEN_BY_DIALECT[name]


def was_seen(db: Engine, *, key: str) -> bool:
    """True when `key` was recorded (by any process).

    It runs before every ack, so it is one plain read on a pooled DBAPI connection, without SQLAlchemy's
    statement execution around it (a third of an ack's CPU in the web process when it had that).
    """
    sql, positional = _seen_statement(db)
    connection = db.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, (key,) if positional else {"key": key})
            return cursor.fetchone() is not None
        finally:
            cursor.close()
    finally:
        connection.close()  # back to the pool, which ends the read's transaction


def forget_requests(session: Session, *, before: datetime) -> int:
    """Delete the rows of requests seen before `before` (outside the replay window); return how many."""
    statement = delete(SeenRequest).where(col(SeenRequest.seen_at) < before)
    return int(session.exec(statement).rowcount or 0)
