"""bot.front.ReplayGuard: a request seen before is a replay (here or in another process); a new one is not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

import bot.front
from bot.front import ReplayGuard
from storage.replays import was_seen


@pytest.fixture
def guards(engine: Engine) -> Iterator[Callable[..., ReplayGuard]]:
    """Make guards on the test store; each is closed before the engine is disposed."""
    made: list[ReplayGuard] = []

    def make(**kwargs: Any) -> ReplayGuard:
        made.append(ReplayGuard(engine, **kwargs))
        return made[-1]

    yield make
    for guard in made:
        guard.close()


def test_the_same_signature_again_is_a_replay_here_and_in_another_process(
    guards: Callable[..., ReplayGuard],
) -> None:
    here = guards()
    assert here.first_time("v0=aaa")
    assert not here.first_time("v0=aaa")
    here.flush()
    elsewhere = guards()
    assert not elsewhere.first_time("v0=aaa")
    assert elsewhere.first_time("v0=bbb")


def test_a_new_request_is_new_even_when_the_writer_runs_between_record_and_read(
    guards: Callable[..., ReplayGuard], monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = guards()

    def writer_first(db: Engine, **key: Any) -> bool:
        guard.flush()  # the background writer stores whatever is pending right now
        return was_seen(db, **key)

    monkeypatch.setattr(bot.front, "was_seen", writer_first)
    assert all(guard.first_time(f"v0={number}") for number in range(20))
    guard.flush()
    assert not any(guards().first_time(f"v0={number}") for number in range(20))


def test_this_process_forgets_its_keys_after_the_window_once_a_second(
    guards: Callable[..., ReplayGuard],
) -> None:
    now = [0.0]
    guard = guards(clock=lambda: now[0])
    assert guard.first_time("v0=old")
    guard.flush()
    now[0] = bot.front.REPLAY_WINDOW.total_seconds() + 1
    assert guard.first_time("v0=new")
    guard.flush()  # prunes: the old key is outside the window
    assert list(guard._recent.values()) == [now[0]]
    now[0] += bot.front.PRUNE_EVERY_SECONDS / 2
    assert guard.first_time("v0=newer")
    guard.flush()  # too soon to prune again; nothing is outside the window anyway
    assert len(guard._recent) == 2


def test_closing_writes_what_was_pending_and_stops_the_writer(engine: Engine) -> None:
    guard = ReplayGuard(engine)
    assert guard.first_time("v0=last")  # the writer now waits FLUSH_SECONDS before writing it
    writer = guard._writer
    guard.close()
    assert writer is not None and not writer.is_alive()
    assert not ReplayGuard(engine).first_time("v0=last")  # written by close, seen by another process
    assert guard.first_time("v0=after") and guard._writer is writer  # no writer again after close
