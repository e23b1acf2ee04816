"""`sync-errors schedule` lists every scheduled job as the scheduler reports it; pause, resume, run each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot import scheduler as sched
from bot.cli import app
from bot.jobs.catalogue import FIXED_JOBS
from bot.scheduler import build_scheduler
from bot.sync.mappings import DEFAULT_SPECS
from storage.models import AuditEntry
from tests.bot.jobs.builders import FakeEngine, fire, next_run, settings_for

JOB_KEYS = {
    "id", "kind", "description", "mapping", "interval_seconds", "interval_minutes", "cron", "state", "paused",
    "enabled", "last_result", "last_run_at", "next_run_at", "reported_at",
}  # fmt: skip
EVERY_JOB = [f"sync:{spec.name}" for spec in DEFAULT_SPECS] + [job.id for job in FIXED_JOBS]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, database_url: str) -> CliRunner:
    """A runner on the test store."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


@pytest.fixture
def scheduler(database_url: str, engine: Engine) -> Iterator[BaseScheduler]:
    """The demo's scheduler (syncs every 5 s), started paused, as the scheduling process runs it."""
    from bot.sync.mappings import seed_default_mappings
    from storage.db import session_scope

    with session_scope(engine) as session:
        seed_default_mappings(session)
    built = build_scheduler(
        settings=settings_for(database_url),
        db=engine,
        sync=FakeEngine(engine),
        deliver=lambda: None,
        work=lambda: None,
        sync_interval=timedelta(seconds=5),
    )
    built.start(paused=True)
    yield built
    built.shutdown(wait=True)


def _jobs(run: CliRunner) -> dict[str, dict[str, object]]:
    result = run.invoke(app, ["schedule", "--json"])
    assert result.exit_code == 0, result.output
    return {job["id"]: job for job in json.loads(result.stdout)}


def test_schedule_json_lists_every_job_on_a_new_store(run: CliRunner) -> None:
    jobs = _jobs(run)
    assert list(jobs) == EVERY_JOB
    assert all(set(job) == JOB_KEYS for job in jobs.values())
    assert jobs["sync:CUSTOMER"]["interval_minutes"] == 30 and jobs["sync:CUSTOMER"]["state"] == "active"
    assert jobs["cleanup"]["cron"] == "daily 02:30 UTC" and jobs["cleanup"]["interval_seconds"] is None
    assert jobs["outbox"]["interval_seconds"] == 2 and jobs["work"]["interval_seconds"] == 2
    assert all(job["next_run_at"] for job in jobs.values())
    assert all(job["reported_at"] is None for job in jobs.values())
    assert "No scheduling process" in run.invoke(app, ["schedule"]).stdout


def test_schedule_shows_the_running_schedulers_real_intervals_and_results(
    run: CliRunner, scheduler: BaseScheduler
) -> None:
    jobs = _jobs(run)
    assert jobs["sync:CUSTOMER"]["interval_seconds"] == 5  # the demo's pace, not SYNC_INTERVAL_MINUTES
    assert jobs["snoozed"]["interval_seconds"] == 60
    fire(scheduler, sched.SNOOZE_JOB)
    fire(scheduler, sched.RECONCILE_JOB)
    assert _jobs(run)["snoozed"]["last_result"] == "ok"
    human = run.invoke(app, ["schedule"], env={"COLUMNS": "80"})
    assert "every 5 s" in human.stdout and "daily 03:00 UTC" in human.stdout
    assert "No scheduling process" not in human.stdout
    assert max(len(line) for line in human.stdout.splitlines()) <= 80


def test_pause_and_resume_a_fixed_job_reach_the_running_scheduler(
    run: CliRunner, scheduler: BaseScheduler, engine: Engine
) -> None:
    paused = run.invoke(app, ["pause", "find-deleted"])
    assert paused.exit_code == 0, paused.output
    assert _jobs(run)["find_deleted"]["state"] == "paused"
    assert next_run(scheduler, sched.FIND_DELETED_JOB) is not None  # applied at the next reconcile
    fire(scheduler, sched.RECONCILE_JOB)
    assert next_run(scheduler, sched.FIND_DELETED_JOB) is None
    assert run.invoke(app, ["resume", "find_deleted"]).exit_code == 0
    fire(scheduler, sched.RECONCILE_JOB)
    assert next_run(scheduler, sched.FIND_DELETED_JOB) is not None
    with Session(engine) as session:
        actions = [(entry.action, entry.target) for entry in session.exec(select(AuditEntry)).all()]
    assert actions == [("pause", "find_deleted"), ("resume", "find_deleted")]


def test_run_a_fixed_job_here_records_its_result(run: CliRunner) -> None:
    result = run.invoke(app, ["run", "cleanup"])
    assert result.exit_code == 0, result.output
    assert "deleted 0 error entries" in result.stdout
    assert _jobs(run)["cleanup"]["last_result"] == "ok"
    assert run.invoke(app, ["run", "snoozed"]).exit_code == 0


def test_the_per_mapping_forms_still_work(run: CliRunner) -> None:
    assert run.invoke(app, ["pause", "customer"]).exit_code == 0
    assert _jobs(run)["sync:CUSTOMER"]["state"] == "paused"
    assert run.invoke(app, ["resume", "sync:CUSTOMER"]).exit_code == 0
    assert run.invoke(app, ["schedule", "CUSTOMER", "every", "15m"]).exit_code == 0
    assert _jobs(run)["sync:CUSTOMER"]["interval_minutes"] == 15


@pytest.mark.parametrize("words", [["pause", "nope"], ["resume", "NOPE"], ["run", "NOPE"]])
def test_an_unknown_job_names_the_known_ones(run: CliRunner, words: list[str]) -> None:
    result = run.invoke(app, words)
    assert result.exit_code == 2, result.output
    assert "CUSTOMER" in result.output and "Traceback" not in result.output
