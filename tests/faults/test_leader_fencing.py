"""Two clocks on PostgreSQL; the leader's lock connection is cut (not the process): never two leaders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.leader import APPLICATION_NAME, EXIT_LOST, EXIT_OK
from tests.faults.conftest import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL (PostgreSQL)"
    ),
]

# A clock whose only job runs back to back (3 s a run) writing a heartbeat line (wall clock) every 20 ms;
# a line written by one process while another one's job runs would be two leaders at once.
CHILD = r"""
import os, sys, threading, time
from datetime import UTC, datetime
from bot.leader import EXIT_LOST, run_clock, stop_on_signals
from bot.config import Settings
from storage.db import make_engine
from apscheduler.schedulers.background import BackgroundScheduler

settings = Settings(_env_file=None, database_url=sys.argv[1])
beats = open(sys.argv[2], "a", buffering=1)
db = make_engine(settings.database_url)

def busy():
    until = time.time() + 3.0
    while time.time() < until:
        beats.write(f"{time.time():.3f}\n")
        time.sleep(0.02)

def make():
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        busy, "interval", seconds=1, id="busy", max_instances=1, coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    return scheduler

stop = threading.Event()
stop_on_signals(stop)
code = run_clock(settings, make_scheduler=make, stop_event=stop, db=db, poll_seconds=0.1, check_seconds=1.0)
if code == EXIT_LOST:
    os._exit(EXIT_LOST)  # as bot.processes does: no job outlives the leadership
sys.exit(code)
"""


def _beats(path: Path) -> list[float]:
    if not path.exists():
        return []
    return [float(line) for line in path.read_text().split() if line]


def _cut_lock_connection(engine: Engine, pid: int) -> int:
    with engine.connect() as connection:
        killed = connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE :name"),
            {"name": f"{APPLICATION_NAME} pid {pid} %"},
        ).all()
    return len(killed)


def test_a_leader_whose_lock_connection_is_cut_stops_before_the_standby_runs_a_job(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    beats = [tmp_path / "a.beats", tmp_path / "b.beats"]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, database_url, str(path)],
            env=env,
            cwd=tmp_path,
            stderr=(tmp_path / f"{path.stem}.log").open("w"),
        )
        for path in beats
    ]
    try:
        wait_until(lambda: any(len(_beats(path)) > 20 for path in beats))
        leader_index = next(i for i, path in enumerate(beats) if _beats(path))
        leader, standby = children[leader_index], children[1 - leader_index]
        wait_until(lambda: _beats(beats[leader_index])[-1] > _beats(beats[leader_index])[0] + 1.5)
        assert _cut_lock_connection(engine, leader.pid) == 1
        assert leader.wait(30) == EXIT_LOST
        wait_until(lambda: len(_beats(beats[1 - leader_index])) > 20)
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(30) == EXIT_OK
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(30)
    old, new = _beats(beats[leader_index]), _beats(beats[1 - leader_index])
    assert max(old) < min(new), (
        max(old),
        min(new),
    )  # the old leader's last beat came before the new one's first
    logs = "".join((tmp_path / f"{path.stem}.log").read_text() for path in beats)
    assert "Traceback" not in logs
