"""The Pacer: concurrency bound, AIMD on 429 / timeouts / rising latency, Retry-After for all, the budgets."""

from __future__ import annotations

import threading
import time

import pytest

from bot.connectors.pacing import Pacer, PacingLimits


class FakeClock:
    """A clock that only moves when a waiter waits (or a test moves it)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, _condition: threading.Condition, timeout: float | None) -> None:
        assert timeout is not None, "a single-threaded test must never wait for another request"
        self.waits.append(timeout)
        self.now += timeout


def fake_pacer(limits: PacingLimits) -> tuple[Pacer, FakeClock]:
    clock = FakeClock()
    return Pacer(limits, clock=clock, wait=clock.wait), clock


def answer(pacer: Pacer, clock: FakeClock, *, seconds: float = 0.1, cost: int = 1) -> None:
    ticket = pacer.acquire(cost=cost, kind="batch")
    clock.now += seconds
    pacer.release(ticket)


def test_slow_start_grows_to_the_ceiling_and_never_past_it() -> None:
    pacer, clock = fake_pacer(PacingLimits(max_concurrency=8))
    assert pacer.limit == 2
    for _ in range(40):
        answer(pacer, clock)
    assert pacer.limit == 8


def test_a_429_halves_the_limit_and_growth_after_it_is_one_per_round() -> None:
    pacer, clock = fake_pacer(PacingLimits(max_concurrency=8))
    for _ in range(20):
        answer(pacer, clock)
    ticket = pacer.acquire()
    ticket.throttled(0.0)
    pacer.release(ticket)
    assert pacer.limit == 4
    for _ in range(3):  # fewer answers than one round of 4: no growth yet
        answer(pacer, clock)
    assert pacer.limit == 4
    for _ in range(2):
        answer(pacer, clock)
    assert pacer.limit == 5
    assert pacer.stats().throttled == 1 and pacer.stats().decreases == 1


def test_answers_of_the_round_already_cut_do_not_cut_again() -> None:
    pacer, clock = fake_pacer(PacingLimits(max_concurrency=8))
    for _ in range(20):
        answer(pacer, clock)
    burst = [pacer.acquire() for _ in range(8)]
    for ticket in burst:  # one burst of eight 429s is one signal
        ticket.throttled(0.0)
        pacer.release(ticket)
    assert pacer.limit == 4


def test_a_timeout_halves_the_limit() -> None:
    pacer, clock = fake_pacer(PacingLimits(max_concurrency=8))
    for _ in range(20):
        answer(pacer, clock)
    ticket = pacer.acquire()
    ticket.timeout()
    pacer.release(ticket)
    assert pacer.limit == 4


def test_rising_latency_per_operation_halves_the_limit() -> None:
    pacer, clock = fake_pacer(PacingLimits(max_concurrency=8, latency_tolerance=2.0))
    for _ in range(20):
        answer(pacer, clock, seconds=1.0, cost=100)  # 10 ms per operation
    assert pacer.limit == 8
    for _ in range(6):
        answer(pacer, clock, seconds=5.0, cost=100)  # 50 ms per operation
    assert pacer.limit <= 4


def test_a_big_batch_that_takes_longer_in_total_is_not_congestion() -> None:
    pacer, clock = fake_pacer(PacingLimits(max_concurrency=8))
    for _ in range(10):
        answer(pacer, clock, seconds=0.1, cost=10)
    for _ in range(10):
        answer(pacer, clock, seconds=1.0, cost=100)  # ten times the work, the same time per operation
    assert pacer.limit == 8 and pacer.stats().decreases == 0


def test_retry_after_holds_every_other_worker() -> None:
    pacer, clock = fake_pacer(PacingLimits(max_concurrency=8))
    throttled_at: list[float] = []

    def throttled_worker() -> None:
        ticket = pacer.acquire()
        ticket.throttled(30.0)
        pacer.release(ticket)
        throttled_at.append(clock.now)

    worker = threading.Thread(target=throttled_worker)
    worker.start()
    worker.join()
    ticket = pacer.acquire()  # another thread: waits out the 30 s
    pacer.release(ticket)
    assert clock.now >= throttled_at[0] + 30.0
    assert sum(clock.waits) == pytest.approx(30.0)


def test_the_throttled_worker_itself_is_not_held_twice() -> None:
    # Its RetryPolicy already sleeps the Retry-After before it asks again.
    pacer, clock = fake_pacer(PacingLimits(max_concurrency=8))
    ticket = pacer.acquire()
    ticket.throttled(30.0)
    pacer.release(ticket)
    pacer.release(pacer.acquire())
    assert clock.waits == []


def test_the_request_budget_is_never_exceeded_in_any_window() -> None:
    pacer, clock = fake_pacer(PacingLimits(max_concurrency=4, requests_per_window=5, window_seconds=300.0))
    admitted: list[float] = []
    for _ in range(17):
        ticket = pacer.acquire()
        admitted.append(clock.now)
        clock.now += 1.0
        pacer.release(ticket)
    for start in admitted:
        assert sum(1 for moment in admitted if start <= moment < start + 300.0) <= 5
    assert admitted[-1] >= 3 * 300.0
    assert pacer.stats().peak_requests_per_window == 5


def test_the_execution_time_budget_makes_requests_wait() -> None:
    limits = PacingLimits(max_concurrency=4, execution_seconds_per_window=250.0, window_seconds=300.0)
    pacer, clock = fake_pacer(limits)
    admitted: list[float] = []
    for _ in range(6):
        ticket = pacer.acquire()
        admitted.append(clock.now)
        clock.now += 100.0
        pacer.release(ticket)
    assert admitted[:3] == [0.0, 100.0, 200.0]
    assert admitted[3] >= 400.0  # 300 s of work in the window: wait until the first one leaves it
    assert pacer.stats().peak_execution_seconds_per_window <= 300.0


def test_in_flight_never_exceeds_the_limit_under_threads() -> None:
    pacer = Pacer(PacingLimits(max_concurrency=3, initial_concurrency=3))
    lock = threading.Lock()
    in_flight = peak = 0

    def work() -> None:
        nonlocal in_flight, peak
        for _ in range(5):
            with pacer.slot():
                with lock:
                    in_flight += 1
                    peak = max(peak, in_flight)
                time.sleep(0.005)
                with lock:
                    in_flight -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 3
    assert pacer.stats().peak_in_flight == 3 and pacer.in_flight == 0


def test_limits_must_allow_one_request() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        PacingLimits(max_concurrency=0)


def test_slow_reads_and_tiny_batches_are_not_taken_for_congestion() -> None:
    pacer, clock = fake_pacer(PacingLimits(max_concurrency=8))
    for _ in range(20):
        answer(pacer, clock, seconds=1.0, cost=100)
    for _ in range(10):
        ticket = pacer.acquire(kind="GET")  # a page of 5,000 rows takes long and is one request
        clock.now += 3.0
        pacer.release(ticket)
        answer(pacer, clock, seconds=0.05, cost=1)  # a one-operation batch is mostly fixed cost
    assert pacer.limit == 8 and pacer.stats().decreases == 0
