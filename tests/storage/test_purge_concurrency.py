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
    done = threading.Event()
    reads: list[int] = []
    failures: list[BaseException] = []

    def keep_reading() -> None:
        try:
            while not done.is_set():
                with Session(reader) as session:
                    reads.append(len(list_errors(session, status=ErrorStatus.OPEN, limit=20)))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    thread = threading.Thread(target=keep_reading)
    thread.start()
    try:
        result = purge_errors(engine, older_than=None)
    finally:
        done.set()
        thread.join()
        reader.dispose()
    assert not failures
    assert result.deleted == ROWS and result.chunks >= ROWS // 10_000
    assert len(reads) > result.chunks // 4, "the reader kept getting answers during the purge"
    with Session(engine) as session:
        assert count_errors(session) == 0
