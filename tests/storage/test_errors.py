"""Error-log queries on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.errors import (
    count_errors,
    list_errors,
    open_counts,
    purge_errors,
    resolve_error,
    snooze_error,
    upsert_error,
    wake_snoozed,
)
from storage.models import Category, Direction, ErrorStatus, SyncError, System
from storage.types import utcnow
from tests.factories import make_error


def _draft(fingerprint: str = "same") -> SyncError:
    return SyncError(
        mapping="CUSTOMER",
        direction=Direction.TO_DATAVERSE,
        category=Category.PERMISSIONS,
        message="missing privilege",
        fingerprint=fingerprint,
        source_system=System.BUSINESS_CENTRAL,
        source_table="customers",
        destination_system=System.DATAVERSE,
        destination_table="accounts",
    )


def test_a_repeat_of_the_same_fingerprint_counts_instead_of_adding_a_row(session: Session) -> None:
    first, new = upsert_error(session, draft=_draft())
    later = utcnow() + timedelta(minutes=5)
    again, new_again = upsert_error(session, draft=_draft(), now=later)
    session.commit()
    assert new and not new_again
    assert again.id == first.id
    assert again.occurrences == 2
    assert again.last_seen_at == later
    assert count_errors(session) == 1


def test_a_resolved_error_that_comes_back_is_a_new_entry(session: Session) -> None:
    first, _ = upsert_error(session, draft=_draft())
    resolve_error(session, error=first, by="U1", resolution="re-synced")
    second, new = upsert_error(session, draft=_draft())
    session.commit()
    assert new and second.id != first.id


def test_list_is_newest_first_and_filters(session: Session) -> None:
    now = utcnow()
    old = make_error(session, created_at=now - timedelta(days=2))
    newer = make_error(
        session, created_at=now - timedelta(days=1), mapping="CONTACT", category=Category.VALIDATION
    )
    newest = make_error(session, created_at=now, status=ErrorStatus.RESOLVED)
    session.commit()
    assert [e.id for e in list_errors(session, status=None)] == [newest.id, newer.id, old.id]
    assert [e.id for e in list_errors(session, status=ErrorStatus.OPEN)] == [newer.id, old.id]
    assert [e.id for e in list_errors(session, status=None, mapping="CONTACT")] == [newer.id]
    assert [e.id for e in list_errors(session, status=None, category="validation")] == [newer.id]
    assert [e.id for e in list_errors(session, status=None, limit=1)] == [newest.id]
    assert open_counts(session) == [("CONTACT", "validation", 1), ("CUSTOMER", "permissions", 1)]


def test_snoozed_errors_wake_when_their_time_is_up(session: Session) -> None:
    error = make_error(session)
    snooze_error(session, error=error, until=utcnow() - timedelta(seconds=1), by="U1")
    assert wake_snoozed(session) == 1
    assert error.status is ErrorStatus.OPEN


def test_purge_deletes_only_entries_older_than_the_cutoff(engine: Engine) -> None:
    now = utcnow()
    with Session(engine) as session:
        for days in (10, 8, 6, 1):
            make_error(session, created_at=now - timedelta(days=days))
        session.commit()
    result = purge_errors(engine, older_than=now - timedelta(days=7), chunk_rows=1)
    assert result.deleted == 2
    with Session(engine) as session:
        assert count_errors(session) == 2


def test_purge_all_empties_the_log_in_chunks(engine: Engine) -> None:
    with Session(engine) as session:
        for _ in range(25):
            make_error(session)
        session.commit()
    progress: list[int] = []
    result = purge_errors(
        engine, older_than=None, chunk_rows=10, on_progress=lambda done, _t: progress.append(done)
    )
    assert result.deleted == 25 and result.chunks == 3
    assert progress == [10, 20, 25]
    with Session(engine) as session:
        assert count_errors(session) == 0


def test_purge_of_an_empty_log_does_nothing(engine: Engine) -> None:
    assert purge_errors(engine, older_than=None).deleted == 0
