"""What a failed run is, and the alert and recovery lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.jobs.health import RunOutcome, alert_text, job_failed, judge_runs, note_outcome
from storage.models import Direction, Mapping, SyncJob
from tests.bot.jobs.builders import CHANNEL, texts
from tests.factories import make_error, make_job

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("counters", "has_errors", "failed"),
    [
        ({"failed": 3}, False, True),  # records failed, nothing written
        ({"failed": 3, "unchanged": 40}, False, True),  # reading works, but every change failed
        ({"failed": 3, "modified": 1}, False, False),  # some records synced: the run works
        ({"coupled": 1, "failed": 2}, False, False),
        ({}, True, True),  # a job-level error (sign-in refused) that counted no record
        ({"unchanged": 5}, False, False),  # nothing to do is fine
        ({"finished_at": None}, False, True),  # never finished
    ],
)
def test_what_a_failed_run_is(counters: dict[str, object], has_errors: bool, failed: bool) -> None:
    values: dict[str, object] = {"finished_at": NOW}
    values.update(counters)
    job = SyncJob(mapping="CUSTOMER", direction=Direction.TO_DATAVERSE, **values)  # type: ignore[arg-type]
    assert job_failed(job, has_errors=has_errors) is failed


def test_runs_are_judged_from_the_jobs_of_the_tick(session: Session) -> None:
    make_job(session, mapping="CUSTOMER", started_at=NOW - timedelta(minutes=30), failed=1)  # an older run
    make_job(session, mapping="CUSTOMER", started_at=NOW, modified=2)
    make_job(session, mapping="CUSTOMER", started_at=NOW, direction=Direction.FROM_DATAVERSE, unchanged=1)
    signin = make_job(session, mapping="CURRENCY", started_at=NOW)
    make_error(session, mapping="CURRENCY", job_id=signin.id, message="AADSTS50055: The password is expired.")
    make_job(session, mapping="CONTACT", started_at=NOW, failed=2)
    outcomes = judge_runs(session, names=["CURRENCY", "CUSTOMER", "CONTACT", "SALESPEOPLE"], since=NOW)
    assert outcomes == [
        RunOutcome("CURRENCY", True, "AADSTS50055: The password is expired."),
        RunOutcome("CUSTOMER", False),
        RunOutcome("CONTACT", True, "2 records failed"),
    ]  # SALESPEOPLE has no job: no verdict
    crashed = judge_runs(session, names=["SALESPEOPLE"], since=NOW, crash="boom")
    assert crashed == [RunOutcome("SALESPEOPLE", True, "boom")]


def test_one_alert_per_change_of_state(engine: Engine, session: Session) -> None:
    mapping = Mapping(
        name="CUSTOMER", bc_table="customers", dataverse_table="accounts", direction=Direction.TO_DATAVERSE
    )
    session.add(mapping)
    failing = RunOutcome("CUSTOMER", True, "Principal user is missing prvReadAccount privilege.")
    lines = []
    for _ in range(4):
        lines.append(
            note_outcome(
                session,
                mapping=mapping,
                outcome=failing,
                channel=CHANNEL,
            )
        )
    ok = RunOutcome("CUSTOMER", False)
    for _ in range(2):
        lines.append(note_outcome(session, mapping=mapping, outcome=ok, channel=CHANNEL))
    session.commit()
    assert lines == [
        None,
        None,
        "⚠️ CUSTOMER has failed 3 runs in a row: Principal user is missing prvReadAccount privilege. "
        "See /sync-errors list --mapping CUSTOMER",
        None,
        "✅ CUSTOMER is syncing again: its last run succeeded.",
        None,
    ]
    assert texts(engine) == [line for line in lines if line]


def test_the_alert_escapes_and_shortens_the_message() -> None:
    text = alert_text("CONTACT", 3, "Value <b> & " + "x" * 300)
    assert "Value &lt;b&gt; &amp; " in text
    assert len(text) < 300 and "…. See /sync-errors list --mapping CONTACT" in text
