"""Replies rendered after the ack, away from the request threads: in the reply process, else on a small pool.

Rendering a list or a summary costs a few milliseconds of CPU; done on Bolt's listener threads it competes
with new acks for the interpreter. A reply is therefore named (REPLIES) and carries the request's body, so
that it can go to another process: under `serve --http` every web worker hands its replies to a reply process
of its own (bot.replier, at a lower CPU priority). Without one (tests, Socket Mode, a reply process that is
behind by MAX_BACKLOG replies) at most REPLY_THREADS replies render here at a time; a full backlog renders
inline. Modals are never deferred: their trigger_id expires 3 s after the click.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt import BoltContext
from slack_sdk import WebClient

from handlers.request import SlackRequest, slack_request

log = logging.getLogger(__name__)

REPLY_THREADS = 2
MAX_BACKLOG = 500


@dataclass(frozen=True)
class Reply:
    """One reply to render and send after the ack: its name in REPLIES, the request's body, the action."""

    name: str
    body: dict[str, Any]
    action: dict[str, Any] | None = None


ReplyFunction = Callable[[SlackRequest, Reply], None]
REPLIES: dict[str, ReplyFunction] = {}


def reply_named(name: str) -> Callable[[ReplyFunction], ReplyFunction]:
    """Register a reply function under `name` (the reply process finds it by that name)."""

    def register(function: ReplyFunction) -> ReplyFunction:
        REPLIES[name] = function
        return function

    return register


def run_reply(request: SlackRequest, reply: Reply) -> None:
    """Render and send one reply to the asker of `request`."""
    REPLIES[reply.name](request, reply)


class Courier(Protocol):
    """Something that takes replies to render elsewhere (bot.replier.ReplyProcess)."""

    def submit(self, reply: Reply) -> bool:
        """Take the reply (True), or refuse it when too far behind (False)."""

    def close(self) -> None:
        """Send what is left and let go."""


_courier: Courier | None = None
_pool = ThreadPoolExecutor(REPLY_THREADS, thread_name_prefix="reply")
_backlog = threading.BoundedSemaphore(MAX_BACKLOG)


def use_courier(courier: Courier | None) -> None:
    """Send this process's replies through `courier` from now on (None: render them here)."""
    global _courier  # noqa: PLW0603 - one courier per process, set once at start
    _courier = courier


def close_courier() -> None:
    """Close this process's courier, if any (a web worker's last step)."""
    courier = _courier
    use_courier(None)
    if courier is not None:
        courier.close()


def after_ack(reply: Reply, context: BoltContext, client: WebClient) -> None:
    """Hand `reply` to the reply process; else render it on the reply pool (inline when it is full)."""
    courier = _courier
    if courier is not None and courier.submit(reply):
        return

    def work() -> None:
        run_reply(slack_request(context, client, reply.body), reply)

    if not _backlog.acquire(blocking=False):
        work()
        return

    def run() -> None:
        try:
            work()
        except Exception:
            log.exception("a reply failed after the ack")
        finally:
            _backlog.release()

    _pool.submit(run)
