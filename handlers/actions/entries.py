"""Buttons on the error log that need no business app: delete one entry, details, the next page, refresh."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks import (
    Problem,
    build_already_done,
    build_entry_deleted,
    build_error_details,
    build_problem,
    read_more_value,
)
from bot.commands import ListErrors, UsageError, parse
from bot.operations import error_entries, reports
from bot.operations.base import NotFound
from bot.operations.requests import error_target
from handlers.acking import done_at_ack
from handlers.actions.acked import ButtonHandler, acked
from handlers.actions.clicked import clicked_or_say, clicked_value
from handlers.commands.reading import error_list
from handlers.home.publish import publish_home
from handlers.later import Reply, after_ack, reply_named
from handlers.request import SlackRequest, slack_request


def _delete(request: SlackRequest, error_id: int) -> None:
    try:
        error_entries.delete_entry(request.db, error_id=error_id, actor=request.actor)
    except NotFound:
        done = reports.last_done(request.db, target=error_target(error_id), actions=("delete_error",))
        if done is None:
            raise
        request.reply(build_already_done(done, locale=request.locale))
        return
    request.reply(build_entry_deleted(error_id, locale=request.locale))


@acked
def handle_delete_error(request: SlackRequest, action: dict[str, Any]) -> None:
    """Delete entry: remove the error from the log (admins); the records stay as they are."""
    error_id = clicked_or_say(request, action, Problem.NO_ERROR)
    if error_id is None:
        return
    _delete(request, error_id)


def _answered_later(reply_name: str, doc: str) -> ButtonHandler:
    """A listener that acks at once, then hands the click to the reply process's `reply_name` answer."""

    def listener(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        after_ack(Reply(reply_name, body, action), context, client)

    listener.__name__ = f"handle_{reply_name}"
    listener.__doc__ = doc
    return done_at_ack(listener)


handle_show_details = _answered_later(
    "show_details", "Details: the whole error, only for the one who asked (rendered by the reply process)."
)


@reply_named("show_details")
def answer_show_details(request: SlackRequest, reply: Reply) -> None:
    """The whole error of the clicked button."""
    error_id = clicked_or_say(request, reply.action or {}, Problem.NO_ERROR)
    if error_id is None:
        return
    request.attempt(
        lambda: request.reply(
            build_error_details(
                error_entries.load_error(request.db, error_id=error_id), locale=request.locale
            )
        )
    )


handle_list_more = _answered_later(
    "list_more", "More: the next page of the same list (rendered by the reply process)."
)


@reply_named("list_more")
def answer_list_more(request: SlackRequest, reply: Reply) -> None:
    """The next page of the list the clicked "More" belongs to."""
    try:
        before_id, words = read_more_value(clicked_value(reply.action or {}))
        command = parse(words or "list")
    except (ValueError, UsageError):
        request.reply(build_problem(Problem.LIST_UNREADABLE, locale=request.locale))
        return
    listing = command if isinstance(command, ListErrors) else ListErrors()
    request.attempt(lambda: request.reply(error_list(listing, request, before_id=before_id)))


def handle_home_refresh(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Refresh on App Home: publish it again."""
    ack()
    request = slack_request(context, client, body)
    publish_home(request)
