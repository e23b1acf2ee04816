"""One Slack request as the handlers see it: who asks, in which language, and how to answer them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View
from sqlalchemy.engine import Engine

from bot.blocks import (
    Message,
    build_already_done,
    build_already_queued,
    build_failure,
    build_not_allowed,
    build_queued,
)
from bot.i18n import DEFAULT_LOCALE
from bot.operations import kinds
from bot.operations.base import Actor, NotAllowed, OperationError
from bot.operations.requests import AlreadyDone, AlreadyQueued, Queued, RequestOutcome
from bot.services import Services
from handlers.people import LOCALES, actor_for, locale_for
from handlers.responding import PooledRespond

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackRequest:
    """The asker of one command, click or submission, with the ways to answer them ephemerally."""

    services: Services
    client: WebClient
    actor: Actor
    locale: str
    response_url: str | None = None
    trigger_id: str | None = None
    channel_id: str | None = None
    respond: Respond | None = None
    locale_known: bool = True  # False before the ack: the locale is a guess and Slack was not asked
    write_deadline: float | None = None  # before the ack: seconds a write may wait for the store

    @property
    def locale_to_store(self) -> dict[str, str]:
        """The payload entry of the asker's locale for the worker's answer (none when not known yet)."""
        return {"locale": self.locale} if self.locale_known else {}

    @property
    def db(self) -> Engine:
        """The store's engine."""
        return self.services.db

    def reply(self, message: Message) -> None:
        """Answer only the asker: through the response_url, else as an ephemeral or direct message."""
        try:
            if self.response_url and self.respond is not None:
                self.respond(
                    text=message.text,
                    blocks=message.block_dicts(),
                    response_type="ephemeral",
                    replace_original=False,
                )
            elif self.channel_id:
                self.client.chat_postEphemeral(
                    channel=self.channel_id,
                    user=self.actor.id,
                    text=message.text,
                    blocks=message.block_dicts(),
                )
            else:
                self.client.chat_postMessage(
                    channel=self.actor.id, text=message.text, blocks=message.block_dicts()
                )
        except Exception as exc:  # noqa: BLE001 - the work is done; a lost answer is only logged
            log.warning("could not answer %s: %s", self.actor.id, exc)

    def open_modal(self, view: View) -> bool:
        """Open a modal with this request's trigger_id (valid ~3 s); False when Slack refused it."""
        return self.open_modal_id(view) is not None

    def open_modal_id(self, view: View) -> str | None:
        """Open a modal and return the id Slack gave its view (what server-side state is keyed by)."""
        if not self.trigger_id:
            return None
        try:
            response = self.client.views_open(trigger_id=self.trigger_id, view=view)
        except Exception as exc:  # noqa: BLE001 - expired_trigger_id and the like: tell the user
            log.warning("views.open failed: %s", exc)
            return None
        opened = response.get("view") if hasattr(response, "get") else None
        return str(opened.get("id") or "") if isinstance(opened, dict) else ""

    def admins(self) -> list[str]:
        """SYNC_ADMINS, to name in refusals."""
        return list(self.services.settings.sync_admins)

    def allowed(self, key: str, *, target: str | None) -> bool:
        """Whether the asker may do the catalogue action `key`; if not, the refusal is audited and said."""
        try:
            kinds.permit(self.db, self.actor, key, target=target)
        except NotAllowed as refused:
            self.answer_failure(refused)
            return False
        return True

    def answer_request(self, outcome: RequestOutcome, *, answer_later: bool = True) -> None:
        """ "Queued …", "already queued by @x", or "already done by @x at …"."""
        if isinstance(outcome, Queued):
            self.reply(
                build_queued(outcome.kind, outcome.target, answer_later=answer_later, locale=self.locale)
            )
        elif isinstance(outcome, AlreadyQueued):
            self.reply(
                build_already_queued(
                    outcome.kind,
                    outcome.target,
                    by=outcome.requested_by,
                    at=outcome.requested_at,
                    running=outcome.running,
                    locale=self.locale,
                )
            )
        elif isinstance(outcome, AlreadyDone):
            self.reply(build_already_done(outcome.done, locale=self.locale))

    def answer_failure(self, exc: OperationError) -> None:
        """A refusal (already audited by the service) or what went wrong, ephemerally."""
        if isinstance(exc, NotAllowed):
            self.reply(build_not_allowed(exc.action, admins=self.admins(), locale=self.locale))
        else:
            self.reply(build_failure(exc.said, locale=self.locale))

    def attempt(self, work: Callable[[], None]) -> None:
        """Run `work`; an OperationError becomes an ephemeral answer instead of a stack trace."""
        try:
            work()
        except OperationError as exc:
            self.answer_failure(exc)


def slack_request(
    context: BoltContext,
    client: WebClient,
    body: dict[str, Any],
    *,
    user_id: str | None = None,
    before_ack: bool = False,
) -> SlackRequest:
    """Build the request of a command, click, submission or event body.

    `before_ack` makes no Slack call (users.info for the locale): the locale is the cached one, else a guess.
    """
    services: Services = context["services"]
    response_url = body.get("response_url")
    # Bolt's context.respond, but on a kept-alive connection (handlers.responding).
    respond = (
        PooledRespond(response_url=response_url, proxy=client.proxy, ssl=client.ssl) if response_url else None
    )
    return _request(services, client, body, respond=respond, user_id=user_id, before_ack=before_ack)


def reply_request(services: Services, body: dict[str, Any]) -> SlackRequest:
    """The request of a body away from Bolt (the reply process): answers go out through our own client."""
    if services.slack is None:
        raise ValueError("SLACK_BOT_TOKEN is not set: replies cannot be sent")
    response_url = body.get("response_url")
    respond = PooledRespond(response_url=response_url) if isinstance(response_url, str) else None
    return _request(services, services.slack, body, respond=respond)


def _request(
    services: Services,
    client: WebClient,
    body: dict[str, Any],
    *,
    respond: Respond | None,
    user_id: str | None = None,
    before_ack: bool = False,
) -> SlackRequest:
    user = user_id or _user_id(body)
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    response_url = body.get("response_url")
    cached = LOCALES.cached(client, user) if before_ack else None
    return SlackRequest(
        services=services,
        client=client,
        actor=actor_for(services, user),
        locale=(cached or DEFAULT_LOCALE) if before_ack else locale_for(client, user),
        response_url=response_url if isinstance(response_url, str) else None,
        trigger_id=body.get("trigger_id"),
        channel_id=channel if isinstance(channel, str) else None,
        respond=respond if isinstance(response_url, str) and response_url else None,
        locale_known=not before_ack or cached is not None,
        write_deadline=ACK_WRITE_SECONDS if before_ack else None,
    )


# Slack waits 3 s for an ack; a write before the ack gives up after this (no ack: Slack shows the failure).
ACK_WRITE_SECONDS = 2.0

Asked = list[tuple[RequestOutcome, bool]]  # each queued request's outcome, and whether to answer it later


def queue_then_ack(
    ack: Ack,
    context: BoltContext,
    client: WebClient,
    body: dict[str, Any],
    ask: Callable[[SlackRequest], Asked],
) -> None:
    """Commit the work items (and their audit entries) first, then ack, then say "Queued …".

    An acked request therefore always exists in the store; if the store cannot take it, this raises before the
    ack and Slack shows the person that the request failed. Refusals are acked and answered as usual.
    """
    early = slack_request(context, client, body, before_ack=True)
    try:
        asked = ask(early)
    except OperationError as exc:
        ack()
        slack_request(context, client, body).answer_failure(exc)
        return
    ack()
    request = slack_request(context, client, body)
    for outcome, answer_later in asked:
        request.answer_request(outcome, answer_later=answer_later)


def _user_id(body: dict[str, Any]) -> str:
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id") or "")
    if isinstance(user, str):
        return user
    return str(body.get("user_id") or "")
