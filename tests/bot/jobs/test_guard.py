"""Per-job insurance: on PostgreSQL a job already running elsewhere is skipped."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.jobs.guard import KEY_PREFIX, exclusive, guarded


def test_a_free_job_runs(engine: Engine) -> None:
    calls: list[str] = []

    def job() -> str:
        calls.append("ran")
        return "done"

    assert guarded(engine, "cleanup", job)() == "done"
    assert calls == ["ran"]


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_a_job_held_by_another_connection_is_skipped(engine: Engine) -> None:
    calls: list[str] = []
    with engine.connect() as other, other.begin():
        other.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": KEY_PREFIX + "cleanup"})
        assert guarded(engine, "cleanup", lambda: calls.append("ran"))() is None
        with exclusive(engine, "summary") as mine:
            assert mine  # other jobs are not held up
    assert calls == []
    guarded(engine, "cleanup", lambda: calls.append("ran"))()
    assert calls == ["ran"]
