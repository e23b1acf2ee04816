"""The long-running processes: `serve` (Slack, plus scheduler and work queue) and `clock` (scheduler only).

This module wires things together, like app.py and web.py: settings and services in, a running process out.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.base import BaseScheduler

from bot.config import Settings
from bot.leader import run_clock, stop_on_signals
from bot.notify import OutboxDelivery
from bot.scheduler import DELIVER_EVERY, build_scheduler
from bot.scheduler_process import report_exit, stop_when_master_is_gone
from bot.services import NotConfigured, Services
from bot.sync.mappings import seed_default_mappings
from bot.worker import run_due_work
from storage.db import session_scope
from storage.models import SyncJob, Trigger

log = logging.getLogger(__name__)

EXIT_LOST_LEADERSHIP = 1

# gunicorn settings of `serve --http` (README "Running it"): a stalled or huge upload cannot take the workers.
# The body is bounded by bot.front (64 KiB, read within 5 s); the worker class bounds every blocking read and
# write (2 s) and gives a thread only to connections with bytes to read; the rest bound the request line and
# headers, idle keep-alive connections, and a worker that stops answering its master.
GUNICORN_LIMITS: dict[str, Any] = {
    "worker_class": "bot.webworker.BoundedThreadWorker",  # gthread that never waits long on one client
    "threads": 8,
    "timeout": 30,  # a worker silent for 30 s is restarted by the master
    "graceful_timeout": 20,
    "keepalive": 2,  # idle keep-alive connections are closed after 2 s
    "limit_request_line": 4094,
    "limit_request_fields": 50,
    "limit_request_field_size": 8190,
}


def worker_name(role: str) -> str:
    """A name for this process in claims and logs: role@host:pid."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"


def seed_mappings(services: Services) -> None:
    """Create the default mappings on a new store, so the scheduler has jobs from the first start."""
    with session_scope(services.db) as session:
        seed_default_mappings(session)


def make_sync(services: Services) -> Callable[[Sequence[str], Trigger], object]:
    """The scheduler's sync callable: run mappings through the engine; say once what is missing."""
    warned = threading.Event()

    def sync(names: Sequence[str], trigger: Trigger) -> object:
        engine = services.sync_engine_or_none(cannot="scheduled syncs cannot run", warned=warned)
        if engine is None:
            return None
        return engine.run(list(names), trigger=trigger)

    return sync


def make_find_deleted(services: Services) -> Callable[[Trigger], Sequence[SyncJob] | None]:
    """The nightly Find for Deleted on this process's connectors; says once what is missing."""
    warned = threading.Event()

    def find_deleted(trigger: Trigger) -> Sequence[SyncJob] | None:
        cannot = "the nightly find-deleted scan cannot run"
        engine = services.sync_engine_or_none(cannot=cannot, warned=warned)
        if engine is None:
            return None
        return engine.find_deleted(trigger=trigger)

    return find_deleted


def make_delivery(services: Services, *, role: str) -> OutboxDelivery | None:
    """The outbox delivery of this process, or None without a Slack client (nothing to deliver to)."""
    if services.slack is None:
        return None
    return OutboxDelivery(
        db=services.db,
        client=services.slack,
        digest=services.settings,
        worker_id=worker_name(role),
        # keep each channel at its message per second between the scheduler's calls, ending before the next
        round_seconds=DELIVER_EVERY.total_seconds() * 0.9,
    )


def make_scheduler_factory(
    services: Services,
    *,
    role: str,
    delivery: OutboxDelivery | None,
    sync_interval: timedelta | None = None,
) -> Callable[[], BaseScheduler]:
    """A factory of the process's (non-blocking) scheduler: syncs, cleanup, outbox delivery, work queue."""
    worker = worker_name(role)

    def work() -> object:
        return run_due_work(services, worker_id=worker)

    def make() -> BaseScheduler:
        return build_scheduler(
            settings=services.settings,
            db=services.db,
            sync=make_sync(services),
            deliver=delivery.deliver_due if delivery is not None else None,
            work=work,
            blocking=False,
            sync_interval=sync_interval,
            find_deleted=make_find_deleted(services),
        )

    return make


def start_scheduler_thread(
    services: Services, *, role: str, stop: threading.Event, sync_interval: timedelta | None = None
) -> threading.Thread:
    """Run the clock (leader election + scheduler) in a thread of this process until `stop` is set.

    If another process already schedules for this store, this one serves without a scheduler (SQLite) or
    waits as a hot standby (PostgreSQL). If leadership is lost, the process exits: never two leaders.
    """
    factory = make_scheduler_factory(
        services, role=role, delivery=make_delivery(services, role=role), sync_interval=sync_interval
    )

    def run() -> None:
        code = run_clock(services.settings, make_scheduler=factory, stop_event=stop, db=services.db)
        if code == EXIT_LOST_LEADERSHIP and not stop.is_set():
            log.critical("lost the scheduler's leader lock; exiting so that a restart can take over cleanly")
            os._exit(EXIT_LOST_LEADERSHIP)
        if code not in (0, EXIT_LOST_LEADERSHIP):
            log.warning("this process serves Slack without a scheduler; another process runs the jobs")

    thread = threading.Thread(target=run, name="clock", daemon=True)
    thread.start()
    return thread


def run_clock_process(
    services: Services,
    *,
    role: str = "clock",
    lifeline: int | None = None,
    report: Callable[[int], None] | None = None,
) -> int:
    """`sync-errors clock`: the scheduler and the work queue only, until SIGINT/SIGTERM.

    As `serve --http`'s scheduler process it also stops when the master's `lifeline` closes, and tells the
    master its exit code through `report`.
    """
    seed_mappings(services)
    stop = threading.Event()
    stop_on_signals(stop)
    if lifeline is not None:
        stop_when_master_is_gone(lifeline, stop)
    factory = make_scheduler_factory(services, role=role, delivery=make_delivery(services, role=role))
    code = run_clock(services.settings, make_scheduler=factory, stop_event=stop, db=services.db)
    lost = code == EXIT_LOST_LEADERSHIP and not stop.is_set()
    if lost:
        log.critical("lost the leader lock; exiting so that a new scheduler process can take over")
    if report is not None:
        report(code)
    if lost:
        os._exit(EXIT_LOST_LEADERSHIP)  # a running job must not outlive the leadership
    return code


def run_scheduler_process(role: str, lifeline: int, status: int) -> int:
    """The scheduler process of `serve --http` (bot.scheduler_process starts it), until the master goes."""
    from bot.config import load_settings
    from bot.logs import configure_logging
    from bot.services import build_services

    settings = load_settings()
    configure_logging(settings.log_level.value, settings.log_format.value)
    services = build_services(settings)
    try:
        return run_clock_process(
            services, role=role, lifeline=lifeline, report=lambda code: report_exit(status, code)
        )
    finally:
        services.close()


def run_socket_mode(settings: Settings, services: Services, *, scheduler: bool) -> None:
    """`sync-errors serve` (default): Socket Mode, one process with the scheduler and the work queue."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import build_app

    app_token = settings.secret("slack_app_token")
    if not app_token:
        raise NotConfigured("Socket Mode needs SLACK_APP_TOKEN (an xapp- token with connections:write).")
    app = build_app(settings, services, socket_mode=True)
    stop = threading.Event()
    stop_on_signals(stop)
    if scheduler:
        seed_mappings(services)
        start_scheduler_thread(services, role="serve", stop=stop)
    handler = SocketModeHandler(app, app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    log.info("connected to Slack in Socket Mode")
    try:
        stop.wait()
    finally:
        handler.close()  # type: ignore[no-untyped-call]


def run_http(settings: Settings, services: Services, *, port: int, scheduler: bool, workers: int = 2) -> None:
    """`sync-errors serve --http`: Bolt over WSGI under gunicorn (gthread), the scheduler in its own process.

    The master opens no store: gunicorn forks workers from it, and a fork while SQLite's writer lock is held
    in the master leaves a worker that can never write (see bot.scheduler_process).
    """
    from gunicorn.app.base import BaseApplication

    from bot.scheduler_process import SchedulerProcess
    from bot.web import WebApp, start_web_worker

    if not settings.secret("slack_signing_secret"):
        raise NotConfigured("HTTP mode needs SLACK_SIGNING_SECRET to verify Slack's requests.")
    services.close()  # checked at start; the workers and the scheduler process open their own
    clock = SchedulerProcess(role="serve") if scheduler else None

    class Server(BaseApplication):  # type: ignore[misc]
        """gunicorn with our options; each worker builds its own app (after the fork)."""

        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"0.0.0.0:{port}",
                "workers": workers,
                **GUNICORN_LIMITS,
                "accesslog": None,
                "when_ready": self._when_ready,
                "post_fork": self._post_fork,
                "on_exit": self._on_exit,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def _when_ready(self, _server: Any) -> None:
            if clock is not None:
                clock.start()

        def _post_fork(self, _server: Any, _worker: Any) -> None:
            if clock is not None:
                clock.forget_in_child()

        def _on_exit(self, _server: Any) -> None:
            if clock is not None:
                clock.stop()

        def load(self) -> WebApp:
            from bot.services import build_services

            return start_web_worker(settings, build_services(settings))

    Server().run()


if __name__ == "__main__":  # `python -m bot.processes ROLE LIFELINE STATUS`: the scheduler of `serve --http`
    sys.exit(run_scheduler_process(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
