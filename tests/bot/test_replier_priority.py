"""The reply process gives the CPU to acks: SCHED_IDLE on Linux, else a lower nice value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_the_reply_process_runs_only_when_no_ack_wants_a_cpu() -> None:
    code = (
        "import os, threading\n"
        "from bot.replier import lower_priority\n"
        "lower_priority()\n"
        "seen = []\n"
        "t = threading.Thread(target=lambda: seen.append(os.sched_getscheduler(0)))\n"
        "t.start(); t.join()\n"
        "print(os.sched_getscheduler(0) == os.SCHED_IDLE, seen == [os.SCHED_IDLE])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["True", "True"], result.stdout + result.stderr  # threads inherit it
