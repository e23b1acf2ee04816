"""Slack: a fix that does not apply to the error's state says why and changes nothing."""

from __future__ import annotations

from sqlmodel import Session

from storage.models import ErrorStatus, SyncError
from storage.types import utcnow
from tests.factories import make_error
from tests.handlers.conftest import Harness


def test_snooze_of_a_resolved_error_is_refused(harness: Harness) -> None:
    with Session(harness.db) as session:
        error = make_error(session, status=ErrorStatus.RESOLVED, resolved_at=utcnow(), resolved_by="U1")
        session.commit()
        error_id = error.id
    text = harness.answer_text(harness.command(f"snooze {error_id} 1h"))
    assert "is resolved" in text and "nothing changed" in text
    with Session(harness.db) as session:
        row = session.get(SyncError, error_id)
        assert row is not None and row.status is ErrorStatus.RESOLVED and row.snoozed_until is None
