"""A purge of 200,000 entries completes while another connection keeps reading the error log."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import make_engine
from storage.errors import count_errors, list_errors, purge_errors
from storage.models import ErrorStatus

ROWS = 200_000
_COLUMNS = """created_at, last_seen_at, occurrences, status, mapping, direction, category, message, detail,
    hint, facts, fingerprint, source_system, source_table, destination_system, destination_table"""
_VALUES = """:at, :at, 1, 'open', 'CUSTOMER', 'to_dataverse', 'permissions', 'missing privilege', 'full text',
    'hint', '{}', 'fp' || CAST(n AS TEXT), 'business_central', 'customers', 'dataverse', 'accounts'"""


def _fill(engine: Engine, rows: int) -> None:
    if engine.dialect.name == "sqlite":
        series = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :rows) "
        source = "FROM s"
        at = "2026-01-01 00:00:00"
    else:
        series = ""
        source = "FROM generate_series(1, :rows) AS s(n)"
        at = "2026-01-01T00:00:00+00:00"
    sql = f"{series}INSERT INTO syncerror ({_COLUMNS}) SELECT {_VALUES} {source}"
    with engine.begin() as connection:
        connection.execute(text(sql), {"rows": rows, "at": at})


@pytest.mark.slow
def test_purge_of_200000_entries_completes_while_another_connection_reads(
    engine: Engine, database_url: str
) -> None:
    _fill(engine, ROWS)
    reader = make_engine(database_url)
    started = threading.Event()
    done = threading.Event()
    failures: list[BaseException] = []
    seen_between_chunks: list[int] = []

    def read_once() -> int:
        with Session(reader) as session:
            return len(list_errors(session, status=ErrorStatus.OPEN, limit=20))

    def keep_reading() -> None:
        try:
            read_once()
            started.set()
            while not done.is_set():
                read_once()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
            started.set()

    def between_chunks(deleted: int, _total: int) -> None:
        # Another connection answers in the middle of the purge, not only after it.
        with Session(reader) as session:
            seen_between_chunks.append(count_errors(session))
        assert seen_between_chunks[-1] == ROWS - deleted

    thread = threading.Thread(target=keep_reading)
    thread.start()
    started.wait(timeout=60)
    try:
        result = purge_errors(engine, older_than=None, on_progress=between_chunks)
    finally:
        done.set()
        thread.join()
        reader.dispose()
    assert not failures
    assert result.deleted == ROWS and result.chunks == len(seen_between_chunks) >= ROWS // 10_000
    assert seen_between_chunks[0] < ROWS and seen_between_chunks[-1] == 0
    with Session(engine) as session:
        assert count_errors(session) == 0


def test_purge_deletes_exactly_what_was_counted_while_new_errors_arrive(engine: Engine) -> None:
    """Between every chunk a new old-looking error arrives and a counted one is seen again."""
    from datetime import timedelta

    from sqlmodel import select

    from storage.errors import purge_scope
    from storage.models import SyncError
    from storage.types import utcnow
    from tests.factories import make_error

    old = utcnow() - timedelta(days=30)
    with Session(engine) as session:
        for _ in range(50):
            make_error(session, created_at=old)
        session.commit()
    cutoff = utcnow() - timedelta(days=7)
    with Session(engine) as session:
        scope = purge_scope(session, cutoff=cutoff)
        announced = count_errors(session, scope=scope)
    assert announced == 50
    seen_again: list[int] = []

    def meanwhile(_done: int, _total: int) -> None:
        with Session(engine) as session:
            make_error(session, created_at=old)  # new, and would match the cutoff: not counted, stays
            counted = session.exec(
                select(SyncError).where(SyncError.id > 40, SyncError.last_seen_at < cutoff)  # type: ignore[operator]
            ).first()
            if counted is not None and counted.id is not None and counted.id <= (scope.upto_id or 0):
                counted.last_seen_at = utcnow()  # seen again: stays
                session.add(counted)
                seen_again.append(counted.id)
            session.commit()

    result = purge_errors(engine, scope=scope, chunk_rows=10, on_progress=meanwhile)
    assert seen_again
    assert result.deleted == announced - len(seen_again)
    with Session(engine) as session:
        left = session.exec(select(SyncError)).all()
    assert {e.id for e in left if e.id is not None and e.id <= (scope.upto_id or 0)} == set(seen_again)
    assert len([e for e in left if e.id is not None and e.id > (scope.upto_id or 0)]) == result.chunks
