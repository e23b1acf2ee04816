"""Answer Slack the moment a listener acks: the listener runs on a pool thread, the request thread waits.

Bolt's default (process_before_response=False) also runs listeners on a pool, but its request thread looks
for the ack every 10 ms (slack_bolt.listener.thread_runner), so every ack costs up to 10 ms more than the
listener took. The bot's app runs with process_before_response=True, and every listener is registered
through `answer_at_ack`: the request thread waits on an event that ack() sets, returns the ack to Slack at
once, and the rest of the listener goes on on the pool thread. A listener that fails before its ack fails
the request (Bolt's error handler answers it); one that fails after is logged here; one that has not acked
within Slack's 3 s leaves Bolt without an ack (no false 200). Event listeners (acked by Bolt) run on the pool.

A request whose listener has nothing to do after its ack but hand a reply over (marked `done_at_ack`, picked
by `at_once(body)`) runs on the request thread itself: the pool's two thread switches cost such an ack about
a tenth of its CPU, and there is nothing after its ack to wait for. (When the reply process refuses and the
reply pool's backlog is full, handlers.later renders that reply inline, so then on the request thread.)
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

LISTENER_THREADS = 16
ACK_TIMEOUT_SECONDS = 3.0  # Slack's limit; Bolt's listener.ack_timeout

_pool = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")

Listener = Callable[..., Any]
_DONE_AT_ACK: set[Listener] = set()


def done_at_ack(listener: Listener) -> Listener:
    """Mark `listener` as one that only acks and hands its reply over (it may run on the request thread)."""
    _DONE_AT_ACK.add(listener)
    return listener


def is_done_at_ack(listener: Listener | None) -> bool:
    """Whether `listener` was marked `done_at_ack`."""
    return listener in _DONE_AT_ACK


def log_failure(error: BaseException, body: dict[str, Any]) -> None:
    """Log a listener's failure: the store being down in one line, anything else with its traceback."""
    if isinstance(error, SQLAlchemyError):
        log.error("the store failed while answering a %s: %s", body.get("type"), first_line(error))
        return
    log.error("listener failed", exc_info=error, extra={"type": body.get("type")})


def first_line(error: BaseException) -> str:
    """The first line of an exception's text (SQLAlchemy appends the statement and a link)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class _Run:
    """One listener call: set when it acked or ended; who reports a failure after that."""

    def __init__(self) -> None:
        self.settled = threading.Event()
        self.acked = False
        self.returned = False  # the request thread gave up waiting or has its answer
        self.lock = threading.Lock()


class _SignallingAck:
    """Bolt's Ack, which also tells the waiting request thread that the listener acked."""

    def __init__(self, ack: Ack, run: _Run) -> None:
        self._ack = ack
        self._run = run

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._ack(*args, **kwargs)
        finally:
            with self._run.lock:
                self._run.acked = True
            self._run.settled.set()


def answer_at_ack(
    listener: Listener,
    *,
    timeout: float = ACK_TIMEOUT_SECONDS,
    at_once: Callable[[dict[str, Any]], bool] | None = None,
) -> Listener:
    """Wrap `listener` so Bolt (process_before_response=True) answers Slack as soon as it acks; a request for
    which `at_once(body)` is true runs on the request thread (its listener only acks and hands over)."""

    @functools.wraps(listener)  # Bolt picks the arguments by the wrapped function's parameter names
    def answered_at_ack(**kwargs: Any) -> None:
        body: dict[str, Any] = kwargs.get("body") or {}
        run = _Run()
        if at_once is not None and "ack" in kwargs and at_once(body):
            _run_here(listener, kwargs, run, body)
            return
        if "ack" not in kwargs:
            # An event: Bolt acks it when this returns; the listener's work needs no waiting for.
            run.returned = True
            _pool.submit(listener, **kwargs).add_done_callback(lambda done: _report_after(done, run, body))
            return
        kwargs["ack"] = _SignallingAck(kwargs["ack"], run)
        future = _pool.submit(listener, **kwargs)
        future.add_done_callback(lambda done: _settle(done, run, body))
        run.settled.wait(timeout)
        with run.lock:
            failed_first = future.done() and not run.acked and future.exception() is not None
            run.returned = not failed_first
        if failed_first:
            future.result()  # raises: the listener failed before it acked, Bolt's error handler answers

    answered_at_ack.answers_at_ack = True  # type: ignore[attr-defined]
    return answered_at_ack


def _run_here(listener: Listener, kwargs: dict[str, Any], run: _Run, body: dict[str, Any]) -> None:
    """Run the listener on this thread: a failure before its ack fails the request, one after is logged."""
    kwargs["ack"] = _SignallingAck(kwargs["ack"], run)
    try:
        listener(**kwargs)
    except Exception as error:
        if not run.acked:
            raise
        log_failure(error, body)


def _settle(done: Future[Any], run: _Run, body: dict[str, Any]) -> None:
    run.settled.set()
    _report_after(done, run, body)


def _report_after(done: Future[Any], run: _Run, body: dict[str, Any]) -> None:
    """Log a failure the request thread will not raise (it came after the ack, or after the wait)."""
    error = done.exception()
    if error is None:
        return
    with run.lock:
        reported_here = run.acked or run.returned
    if reported_here:
        log_failure(error, body)
