"""build_app: the Bolt app with our own WebClient, the services in every listener's context, the handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.middleware import Middleware

from bot.config import Settings
from bot.ids import COMMAND, ActionId, CallbackId
from bot.services import Services
from handlers import register_handlers
from handlers.acking import log_failure

log = logging.getLogger(__name__)


def build_app(
    settings: Settings, services: Services, *, socket_mode: bool = False, verified_by_front: bool = False
) -> App:
    """Return the Bolt App: explicit client and signing secret, services injected, handlers registered.

    `verified_by_front`: every request reaches Bolt through bot.web.WebApp, which has checked its signature
    (bot.front), so Bolt does not check it a second time. Never with Socket Mode.
    """
    if services.slack is None:
        raise ValueError("SLACK_BOT_TOKEN is not set: the Slack app cannot start without it")
    signing_secret = settings.secret("slack_signing_secret")
    if not socket_mode and not signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify Slack's requests")
    if socket_mode and verified_by_front:
        raise ValueError("Socket Mode has no front: nothing verifies its requests but Bolt")
    app = App(
        client=services.slack,
        signing_secret=signing_secret,
        # Socket Mode carries no signatures; HTTP mode always verifies them, in the front or else here.
        request_verification_enabled=not socket_mode and not verified_by_front,
        # Do not call auth.test at start: a Slack outage must not stop the bot from starting.
        token_verification_enabled=False,
        # Answer Slack as soon as a listener acks (handlers.acking runs the listeners on its own pool).
        process_before_response=True,
        # Unknown action_ids, callbacks and events reach log_listener_error, which acks them (never a 404).
        raise_error_for_unhandled_request=True,
    )

    app.use(InjectServices(services, settings))

    @app.error
    def log_listener_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        """Log a listener failure with its traceback; Slack gets an empty 200, the user an ephemeral line."""
        if isinstance(error, BoltUnhandledRequestError):
            if is_ours(body):
                # Our listener did not ack within Bolt's 3 s (the store was too slow): no false ack.
                log.warning("a request was not acknowledged in time: %s", describe_unhandled(body))
                return BoltResponse(status=503, body="")
            log.info("acknowledged a request no listener handles: %s", describe_unhandled(body))
            return BoltResponse(status=200, body="")
        # The store unavailable (after write_transaction's retries): no ack, one line, no traceback.
        log_failure(error, body)
        return None

    register_handlers(app)
    return app


class InjectServices(Middleware):
    """Make `services` and `settings` available to every listener by name.

    A Middleware of its own rather than `@app.middleware`: Bolt builds a function middleware's arguments by
    inspection on every request, which is a noticeable share of an ack's CPU.
    """

    def __init__(self, services: Services, settings: Settings) -> None:
        self.services = services
        self.settings = settings

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # noqa: A002 - Bolt's name
    ) -> BoltResponse | None:
        """Put the services into the request's context and go on."""
        req.context["services"] = self.services
        req.context["settings"] = self.settings
        return next()


_ACTION_IDS = frozenset(ActionId)
_CALLBACK_IDS = frozenset(CallbackId)


def is_ours(body: dict[str, Any]) -> bool:
    """True when a listener of ours handles this request (the command, a known action_id or callback_id)."""
    if body.get("command") == COMMAND:
        return True
    actions = body.get("actions")
    if isinstance(actions, list) and actions:
        return all(isinstance(a, dict) and a.get("action_id") in _ACTION_IDS for a in actions)
    view = body.get("view")
    return (
        body.get("type") == "view_submission"
        and isinstance(view, dict)
        and view.get("callback_id") in _CALLBACK_IDS
    )


def describe_unhandled(body: dict[str, Any]) -> str:
    """What a request no listener handles was: its type and action_ids, callback_id or event type."""
    kind = str(body.get("type") or body.get("command") or "request")
    actions = body.get("actions")
    if isinstance(actions, list):
        ids = ", ".join(str(a.get("action_id")) for a in actions if isinstance(a, dict))
        return f"{kind} with action_id {ids or '(none)'}"
    view = body.get("view")
    if isinstance(view, dict):
        return f"{kind} of callback_id {view.get('callback_id')}"
    event = body.get("event")
    if isinstance(event, dict):
        return f"{kind} of event {event.get('type')}"
    return kind
