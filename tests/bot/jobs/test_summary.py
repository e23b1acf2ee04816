"""The daily summary: open errors by mapping and category, failed runs; silent when there is nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.jobs.summary import post_daily_summary
from storage.models import Category, ErrorStatus
from tests.bot.jobs.builders import CHANNEL, texts
from tests.factories import make_error, make_job

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.time_machine(NOW, tick=False)
def test_nothing_to_say_posts_nothing(engine: Engine, session: Session) -> None:
    make_error(session, status=ErrorStatus.RESOLVED)
    make_job(session, modified=3)
    make_job(session, failed=2, started_at=NOW - timedelta(days=2))  # older than a day
    session.commit()
    assert post_daily_summary(engine, channel=CHANNEL) is None
    assert texts(engine) == []


def test_the_summary_is_posted_once_a_day(
    engine: Engine, session: Session, time_machine: time_machine.TimeMachineFixture
) -> None:
    time_machine.move_to(NOW, tick=False)
    for _ in range(3):
        make_error(session, mapping="CUSTOMER", category=Category.PERMISSIONS)
    make_error(session, mapping="CUSTOMER", category=Category.VALIDATION)
    make_error(session, mapping="CONTACT", category=Category.DELETED_RECORD)
    make_job(session, mapping="CONTACT", failed=1)  # nothing written: a failed run
    make_job(session, mapping="CONTACT", failed=1, unchanged=5)
    make_job(session, mapping="CUSTOMER", failed=1, modified=4)  # wrote something: not a failed run
    session.commit()
    expected = (
        "📋 Daily summary: 5 open errors.\n"
        "• CUSTOMER: permissions 3, validation 1\n"
        "• CONTACT: deleted-record 1\n"
        "Failed sync jobs in the last day: CONTACT 2."
    )
    assert post_daily_summary(engine, channel=CHANNEL) == expected
    time_machine.shift(timedelta(hours=6))
    assert post_daily_summary(engine, channel=CHANNEL) is None  # already posted today
    time_machine.shift(timedelta(days=1))
    assert post_daily_summary(engine, channel=CHANNEL) == expected.replace(
        "\nFailed sync jobs in the last day: CONTACT 2.", ""
    )
    assert len(texts(engine)) == 2
    assert post_daily_summary(engine, channel=None) is None
