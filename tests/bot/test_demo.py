"""`sync-errors demo --duration 20` as a newcomer runs it: it syncs, shows each fault with a hint, exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_the_demo_syncs_shows_each_faults_error_with_its_hint_and_exits_0(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--duration", "20", "--records", "60"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert "First full synchronization" in out and "0 failed" in out
    assert "Traceback" not in out + result.stderr
    expected = {
        "missing privilege": "prvCreateAccount",
        "deleted record": "coupled to a deleted record",
        "exchange rate": "no exchange rate defined for it",
        "expired password": "AADSTS50055",
        "admin integration user": "System Administrator role",
    }
    for fault, text in expected.items():
        assert text in out, f"the {fault} error is not shown"
    # Sign-in and administrator errors resolve at the next good run; the cards of the others carry a hint.
    assert out.count("💡") >= 3, "every error message carries its hint"
    assert "[Restore record]" in out  # the deleted record's fix is offered as a button
    assert "sync-errors list" in out  # the commands to try from a second terminal
    assert (tmp_path / "sync_errors_demo.db").exists()


def test_log_lines_go_through_the_demos_console_above_the_status_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io
    import logging

    from rich.console import Console

    from bot.demo import _LogsAboveTheStatusLine

    console = Console(file=io.StringIO(), width=80)
    handler = _LogsAboveTheStatusLine(console)
    handler.install()
    try:
        logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed by 0:00:02")
    finally:
        handler.remove()
    assert "missed by 0:00:02" in console.file.getvalue()  # type: ignore[attr-defined]
    assert "missed" not in capsys.readouterr().err  # not written past rich's live display
