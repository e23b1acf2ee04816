"""RetryPolicy: which errors wait how long, and that every wait is bounded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.connectors import (
    ConnectionFailed,
    InvalidData,
    NotFound,
    RetryPolicy,
    ServerError,
    Throttled,
    Timeout,
)


def policy(**overrides: object) -> RetryPolicy:
    settings: dict[str, object] = {
        "max_attempts": 4,
        "base_delay": 1.0,
        "max_delay": 8.0,
        "jitter": lambda: 1.0,
    }
    settings.update(overrides)
    return RetryPolicy(**settings)  # type: ignore[arg-type]


def test_backoff_doubles_up_to_the_cap() -> None:
    waits = [policy().backoff(n) for n in range(1, 6)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0]


@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0.0, max_value=0.999))
def test_full_jitter_stays_within_bounds(retry_number: int, draw: float) -> None:
    wait = policy(jitter=lambda: draw).backoff(retry_number)
    assert 0.0 <= wait <= 8.0


def test_throttled_waits_retry_after() -> None:
    assert (
        policy().delay_before_retry(Throttled("slow down", retry_after=5), attempt=1, may_repeat=False) == 5
    )


def test_throttled_beyond_the_bound_is_raised_at_once() -> None:
    error = Throttled("slow down", retry_after=600)
    assert policy(max_retry_after=60).delay_before_retry(error, attempt=1, may_repeat=True) is None


def test_throttled_without_retry_after_backs_off() -> None:
    assert policy().delay_before_retry(Throttled("slow down"), attempt=2, may_repeat=True) == 2.0


def test_transient_errors_back_off_only_when_repeatable() -> None:
    for error in (ServerError("boom"), Timeout("slow"), ConnectionFailed("down")):
        assert policy().delay_before_retry(error, attempt=1, may_repeat=True) == 1.0
        assert policy().delay_before_retry(error, attempt=1, may_repeat=False) is None


def test_refusals_of_the_data_are_never_retried() -> None:
    for error in (InvalidData("bad"), NotFound("gone")):
        assert policy().delay_before_retry(error, attempt=1, may_repeat=True) is None


def test_attempts_are_bounded() -> None:
    assert policy(max_attempts=3).delay_before_retry(ServerError("boom"), attempt=3, may_repeat=True) is None
