"""Waking snoozed errors: reopened when their time is up, their Slack messages re-rendered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.jobs.snoozed import wake_snoozed_errors
from storage.models import ErrorStatus, Notification, NotificationKind, SyncError
from tests.bot.jobs.builders import CHANNEL
from tests.factories import make_error

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.time_machine(NOW, tick=False)
def test_snoozes_that_ended_are_woken(engine: Engine, session: Session) -> None:
    posted = make_error(
        session, status=ErrorStatus.SNOOZED, snoozed_until=NOW - timedelta(minutes=1), slack_channel=CHANNEL
    )
    unposted = make_error(session, status=ErrorStatus.SNOOZED, snoozed_until=NOW)
    later = make_error(session, status=ErrorStatus.SNOOZED, snoozed_until=NOW + timedelta(minutes=1))
    session.commit()
    assert wake_snoozed_errors(engine) == 2
    session.expire_all()
    statuses = {e.id: e.status for e in session.exec(select(SyncError)).all()}
    assert statuses == {
        posted.id: ErrorStatus.OPEN,
        unposted.id: ErrorStatus.OPEN,
        later.id: ErrorStatus.SNOOZED,
    }
    edits = session.exec(select(Notification)).all()
    assert [(n.kind, n.error_id, n.channel) for n in edits] == [(NotificationKind.UPDATE, posted.id, CHANNEL)]
