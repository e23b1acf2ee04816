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
