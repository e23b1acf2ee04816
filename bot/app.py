"""build_app: the Bolt app with our own WebClient, the services in every listener's context, the handlers."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError

from bot.config import Settings
from bot.services import Services
from handlers import register_handlers

log = logging.getLogger(__name__)

LISTENER_THREADS = 16


def build_app(settings: Settings, services: Services, *, socket_mode: bool = False) -> App:
    """Return the Bolt App: explicit client and signing secret, services injected, handlers registered."""
    if services.slack is None:
        raise ValueError("SLACK_BOT_TOKEN is not set: the Slack app cannot start without it")
    signing_secret = settings.secret("slack_signing_secret")
    if not socket_mode and not signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify Slack's requests")
    app = App(
        client=services.slack,
        signing_secret=signing_secret,
        # Socket Mode carries no signatures; HTTP mode always verifies them.
        request_verification_enabled=not socket_mode,
        # Do not call auth.test at start: a Slack outage must not stop the bot from starting.
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
        raise_error_for_unhandled_request=False,
    )

    @app.middleware
    def inject_services(context: Any, next: Any) -> Any:  # noqa: A002 - Bolt's argument name
        """Make `services` and `settings` available to every listener by name."""
        context["services"] = services
        context["settings"] = settings
        return next()

    @app.error
    def log_listener_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        """Log a listener failure with its traceback; Slack gets an empty 200, the user an ephemeral line."""
        if isinstance(error, BoltUnhandledRequestError):
            return BoltResponse(status=404, body="")
        log.exception("listener failed", exc_info=error, extra={"type": body.get("type")})
        return None

    register_handlers(app)
    return app
