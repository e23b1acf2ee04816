"""The WSGI app of HTTP mode: Bolt at POST /slack/events behind the front checks, GET /healthz, GET /metrics.

A Slack request is refused before anything parses it (bot.front): 411/413 on its length, 401 on a missing,
non-numeric or stale timestamp or a bad signature, 408 when the body does not arrive within the deadline,
400 when a signed body has a shape Bolt cannot read; a replay of a request already seen is answered 200 and
does nothing. Every refusal is one log line, never a traceback.
"""

from __future__ import annotations

import atexit
import gc
import io
import json
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import front
from bot.answering import RequestsInFlight, answering_slack, count_requests_in
from bot.config import Settings
from bot.metrics import Metrics
from bot.services import Services
from storage.db import ping

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
SLACK_PATH = "/slack/events"


class WebApp:
    """A small WSGI dispatcher in front of Bolt's handler."""

    def __init__(self, bolt_app: App, services: Services, metrics: Metrics | None = None) -> None:
        signing_secret = services.settings.secret("slack_signing_secret")
        if not signing_secret:
            # Bolt behind this front does not check signatures again (bot.app, verified_by_front).
            raise ValueError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify Slack's requests")
        self.signing_secret = signing_secret
        self.slack = SlackRequestHandler(bolt_app, path=SLACK_PATH)
        self.services = services
        self.metrics = metrics or Metrics(services.db)
        self.replays = front.ReplayGuard(services.db)

    def close(self) -> None:
        """Write the replay keys not yet written and stop their writer (the web process is ending)."""
        self.replays.close()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Route one request."""
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == SLACK_PATH:
            started = time.perf_counter()
            try:
                with answering_slack():  # the reply process holds its replies meanwhile (bot.replier)
                    return self._slack(environ, start_response)
            finally:
                self.metrics.request_seconds.labels(kind="slack").observe(time.perf_counter() - started)
        if path == "/healthz" and method in ("GET", "HEAD"):
            return self._health(start_response)
        if path == "/metrics" and method == "GET":
            body = generate_latest(self.metrics.registry)
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not Found"]

    def _slack(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Refuse before parsing, then hand the read, verified body to Bolt."""
        if environ.get("REQUEST_METHOD") != "POST":
            return _refuse(start_response, front.Refusal(405, "only POST"), environ)
        refusal = front.check_headers(environ)
        if refusal is not None:
            return _refuse(start_response, refusal, environ)
        try:
            body = front.read_body(environ)
        except front.BodyTimeout as slow:
            return _refuse(start_response, front.Refusal(408, f"body too slow: {slow}"), environ)
        except OSError as error:
            return _refuse(start_response, front.Refusal(400, f"body unreadable: {error}"), environ)
        if len(body) != int(environ["CONTENT_LENGTH"]):
            short = front.Refusal(400, "body shorter than its Content-Length")
            return _refuse(start_response, short, environ)
        refusal = front.check_signature(self.signing_secret, body, environ)
        if refusal is not None:
            return _refuse(start_response, refusal, environ)
        refusal = front.check_shape(body, str(environ.get("CONTENT_TYPE") or ""))
        if refusal is not None:
            return _refuse(start_response, refusal, environ)
        if not self.replays.first_time(str(environ.get("HTTP_X_SLACK_SIGNATURE"))):
            log.info("a signed request seen before was sent again; acknowledged and ignored")
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        environ["wsgi.input"] = io.BytesIO(body)
        return list(self.slack(environ, start_response))

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            ping(self.services.db)
        except Exception as error:  # noqa: BLE001 - any database failure means unhealthy
            log.warning("health check failed: %s", error)
            body = {"status": "unhealthy", "database": "unreachable"}
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"status": "ok", "database": "ok"}).encode()]


_UNREAD_BODY = frozenset({405, 408, 411, 413, 401})
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
}


def _refuse(start_response: StartResponse, refusal: front.Refusal, environ: dict[str, Any]) -> list[bytes]:
    """Answer a refused Slack request; under gunicorn stop reading its socket (the body may still be on the
    way, and gunicorn would otherwise drain it on a worker thread before the next keep-alive request)."""
    log.warning(
        "refused a request to %s from %s: %s (%d)",
        SLACK_PATH,
        environ.get("REMOTE_ADDR", "?"),
        refusal.reason,
        refusal.status,
    )
    body = f"{refusal.reason}\n".encode()
    start_response(
        f"{refusal.status} {_REASONS.get(refusal.status, 'Refused')}",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ],
    )
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket) and refusal.status in _UNREAD_BODY:
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass  # the client is already gone
    return [body]


SWITCH_INTERVAL_SECONDS = 0.001
GC_THRESHOLDS = (10_000, 50, 50)


def favour_acks() -> None:
    """Interpreter settings of a web process: acks first, no long garbage-collection pauses.

    A request thread takes the interpreter from a thread rendering a reply after 1 ms (not 5 ms); what the
    app built at start is frozen out of the collector (gc.freeze), so a full collection walks only the
    objects of recent requests instead of every module and mapping, and runs less often.
    """
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def start_reply_process(settings: Settings) -> None:
    """Give this web worker a reply process of its own (bot.replier); it stops when the worker exits."""
    from bot.replier import ReplyProcess
    from handlers.later import close_courier, use_courier

    requests = RequestsInFlight()
    count_requests_in(requests)
    use_courier(ReplyProcess(settings, requests=requests))
    atexit.register(close_courier)


def create_wsgi_app() -> WebApp:
    """Build the whole web app from the environment (gunicorn's entry point: `bot.web:create_wsgi_app()`)."""
    from bot.config import load_settings
    from bot.logs import configure_logging
    from bot.services import build_services

    settings = load_settings()
    configure_logging(settings.log_level.value, settings.log_format.value)
    return start_web_worker(settings, build_services(settings))


def start_web_worker(settings: Settings, services: Services) -> WebApp:
    """One web worker's app: its reply process started, acks favoured, its replay keys written at exit."""
    from bot.app import build_app

    web = WebApp(build_app(settings, services, verified_by_front=True), services)
    atexit.register(web.close)
    start_reply_process(settings)
    favour_acks()
    return web
