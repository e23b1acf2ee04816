"""Every command the demo suggests for a second terminal works as printed, while the demo runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

STARTED = "First full synchronization"


def _read_until(process: subprocess.Popen[str], marker: str, *, timeout: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"the demo never printed {marker!r}:\n" + "\n".join(lines))


def _suggestions(lines: list[str]) -> tuple[str, list[str], list[str]]:
    """The one-line loader, the export lines and the commands, as printed (indented under their headings)."""
    text = "\n".join(lines)
    exports = re.findall(r"^    (export [A-Z_]+=.*)$", text, re.MULTILINE)
    [load] = re.findall(r"^    (set -a; \. .*; set \+a)$", text, re.MULTILINE)
    commands = re.findall(r"^    (/\S+/sync-errors .*)$", text, re.MULTILINE)
    return load, exports, commands


@pytest.mark.slow
def test_the_second_terminals_commands_work_as_printed(tmp_path: Path) -> None:
    demo_dir, other_dir = tmp_path / "demo", tmp_path / "elsewhere"
    demo_dir.mkdir()
    other_dir.mkdir()
    clean = {
        key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_URL"))
    }
    demo = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--duration", "60", "--records", "40"],
        cwd=demo_dir,
        env={**clean, "PYTHONUNBUFFERED": "1", "COLUMNS": "100"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        printed = _read_until(demo, STARTED, timeout=60)
        load, exports, commands = _suggestions(printed)
        assert {"list", "status", "schedule", "doctor"} <= {command.split()[1] for command in commands}
        env_file = Path(load.split(". ", 1)[1].split(";", 1)[0])
        assert env_file.is_file() and env_file.parent == demo_dir.resolve()
        # A fresh shell elsewhere, with nothing of the demo's environment and the venv not on PATH.
        shell_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "100"}
        time.sleep(2)  # let the scheduler report its jobs once
        for prefix in (load, "; ".join(exports)):
            for command in commands:
                result = subprocess.run(
                    ["/bin/sh", "-c", f"{prefix}; {command}"],
                    cwd=other_dir,
                    env=shell_env,
                    capture_output=True,
                    text=True,
                    timeout=90,
                )
                output = result.stdout + result.stderr
                assert "Traceback" not in output and "not configured" not in output, output
                allowed = (
                    (0, 1) if command.endswith(" doctor") else (0,)
                )  # doctor exits 1 while a fault is on
                assert result.returncode in allowed, f"{command}: {output}"
                if command.endswith(" schedule"):
                    assert re.search(r"sync:CUSTOMER\s+every \d+ s\b", result.stdout), result.stdout
                    assert "cleanup" in result.stdout and "outbox" in result.stdout
                if command.endswith(" status"):
                    assert "Mapping" in result.stdout and "CUSTOMER" in result.stdout
    finally:
        demo.terminate()
        demo.communicate(timeout=60)
    assert not list(other_dir.iterdir()), "the second terminal's commands wrote nothing where they ran"
