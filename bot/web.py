"""The WSGI app of HTTP mode: Bolt at POST /slack/events, GET /healthz, GET /metrics."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.metrics import Metrics
from bot.services import Services

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
SLACK_PATH = "/slack/events"


class WebApp:
    """A small WSGI dispatcher in front of Bolt's handler."""

    def __init__(self, bolt_app: App, services: Services, metrics: Metrics | None = None) -> None:
        self.slack = SlackRequestHandler(bolt_app, path=SLACK_PATH)
        self.services = services
        self.metrics = metrics or Metrics(services.db)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Route one request."""
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == SLACK_PATH:
            started = time.perf_counter()
            try:
                return list(self.slack(environ, start_response))
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

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            with self.services.db.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - any database failure means unhealthy
            log.warning("health check failed: %s", error)
            body = {"status": "unhealthy", "database": "unreachable"}
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"status": "ok", "database": "ok"}).encode()]


def create_wsgi_app() -> WebApp:
    """Build the whole web app from the environment (gunicorn's entry point: `bot.web:create_wsgi_app()`)."""
    from bot.app import build_app
    from bot.config import load_settings
    from bot.logs import configure_logging
    from bot.services import build_services

    settings = load_settings()
    configure_logging(settings.log_level.value, settings.log_format.value)
    services = build_services(settings)
    return WebApp(build_app(settings, services), services)
