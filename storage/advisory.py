"""PostgreSQL advisory locks: the clock's session-level leader lock and the per-job transaction locks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

_HELD_BY_ME = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid::bigint = :hi AND objid::bigint = :lo"
    " AND objsubid = 1)"
)
_HOLDER = text(
    "SELECT a.pid, a.application_name, host(a.client_addr), a.client_hostname FROM pg_locks l"
    " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
    " AND l.classid::bigint = :hi AND l.objid::bigint = :lo AND l.objsubid = 1 LIMIT 1"
)


def try_session_lock(connection: Connection, key: int) -> bool:
    """Take the session-level lock `key` on this connection if it is free (held until the connection ends)."""
    return bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())


def holds_session_lock(connection: Connection, key: int) -> bool:
    """True when this connection's backend still holds the session-level lock `key`."""
    return bool(connection.execute(_HELD_BY_ME, _split(key)).scalar())


def session_lock_holder(connection: Connection, key: int) -> tuple[Any, ...] | None:
    """(pid, application_name, client address, client hostname) of the backend holding `key`, or None."""
    row = connection.execute(_HOLDER, _split(key)).first()
    return tuple(row) if row is not None else None


def try_transaction_lock(connection: Connection, name: str) -> bool:
    """Take the transaction-level lock on hashtext(`name`) if it is free (held until the transaction ends)."""
    return bool(
        connection.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"), {"key": name}).scalar()
    )


def _split(key: int) -> dict[str, int]:
    """pg_locks shows a bigint key as two unsigned halves: classid (high) and objid (low)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return {"hi": unsigned >> 32, "lo": unsigned & 0xFFFF_FFFF}
