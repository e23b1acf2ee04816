"""Replies rendered after the ack on a small pool of their own, so they do not slow other requests' acks.

Rendering a list or a summary costs a few milliseconds of CPU; done on Bolt's listener threads it competes
with new acks for the interpreter. Here at most REPLY_THREADS replies render at a time (fewer runnable
threads than the request threads, so acks get the interpreter first); a full backlog renders inline instead.
Modals are never deferred: their trigger_id expires 3 s after the click.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

REPLY_THREADS = 2
MAX_BACKLOG = 500

_pool = ThreadPoolExecutor(REPLY_THREADS, thread_name_prefix="reply")
_backlog = threading.BoundedSemaphore(MAX_BACKLOG)


def after_ack(work: Callable[[], None]) -> None:
    """Run `work` (render and send a reply) on the reply pool; inline when the backlog is full."""
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
