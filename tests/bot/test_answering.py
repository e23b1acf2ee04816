"""The count of Slack requests a web worker is answering, as its reply process sees it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from bot.answering import QUIET_SECONDS, RequestsInFlight, answering_slack, count_requests_in


def test_each_request_counts_while_it_is_answered() -> None:
    requests = RequestsInFlight()
    with requests.answering():
        with requests.answering():
            assert requests.count() == 2
        assert requests.count() == 1
    assert requests.count() == 0


def test_a_failed_request_is_no_longer_counted() -> None:
    requests = RequestsInFlight()
    try:
        with requests.answering():
            raise RuntimeError("the listener failed")
    except RuntimeError:
        pass
    assert requests.count() == 0


def test_many_threads_leave_the_count_at_zero() -> None:
    requests = RequestsInFlight()

    def answer_many() -> None:
        for _ in range(2000):
            with requests.answering():
                pass

    threads = [threading.Thread(target=answer_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert requests.count() == 0


def test_the_worker_is_idle_only_a_quiet_moment_after_its_last_answer() -> None:
    now = [1000.0]
    requests = RequestsInFlight(clock=lambda: now[0])
    assert requests.idle()  # nothing answered yet
    with requests.answering():
        assert not requests.idle()
    assert not requests.idle()  # the client of a burst sends its next request right away
    now[0] += QUIET_SECONDS * 1.01
    assert requests.idle()


def test_a_wait_ends_at_its_deadline_while_requests_go_on() -> None:
    requests = RequestsInFlight()
    with requests.answering():
        started = time.monotonic()
        assert not requests.wait_until_idle(started + 0.1)
        assert time.monotonic() - started >= 0.1


def test_another_process_reads_the_count_through_the_file_descriptor() -> None:
    requests = RequestsInFlight()
    script = (
        "import sys\n"
        "from bot.answering import RequestsInFlight\n"
        "print(RequestsInFlight(int(sys.argv[1])).count())\n"
    )
    with requests.answering(), requests.answering():
        seen = subprocess.run(
            [sys.executable, "-c", script, str(requests.fileno())],
            pass_fds=(requests.fileno(),),
            capture_output=True,
            text=True,
            check=True,
        )
    assert seen.stdout.strip() == "2"


def test_without_a_counter_slack_requests_are_not_counted() -> None:
    count_requests_in(None)
    with answering_slack():
        pass  # nothing to count in, nothing fails
    requests = RequestsInFlight()
    count_requests_in(requests)
    try:
        with answering_slack():
            assert requests.count() == 1
    finally:
        count_requests_in(None)
    assert requests.count() == 0
