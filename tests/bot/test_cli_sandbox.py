"""`sync-errors sandbox` prints `export` lines that, pasted into a shell, point the bot at it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def test_the_printed_export_lines_work_when_pasted_into_a_shell(tmp_path: Path) -> None:
    clean = {
        key: value for key, value in os.environ.items() if not key.startswith(("BC_", "DATAVERSE_", "AZURE_"))
    }
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0", "--records", "10"],
        env={**clean, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert sandbox.stdout is not None
        exports = []
        for line in sandbox.stdout:
            if line.startswith("export "):
                exports.append(line.strip())
            if line.startswith("Ctrl-C"):
                break
        names = {line.split("=", 1)[0].removeprefix("export ") for line in exports}
        assert names >= {
            "BC_API_URL",
            "DATAVERSE_URL",
            "AUTH_TOKEN_URL",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
        }
        script = "; ".join(exports) + f"; {sys.executable} -m bot sync --full"
        result = subprocess.run(
            ["/bin/sh", "-c", script],
            cwd=tmp_path,
            env=clean,  # the default store, created in tmp_path on first use
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "CUSTOMER" in result.stdout
    finally:
        sandbox.send_signal(signal.SIGINT)
        sandbox.communicate(timeout=30)
