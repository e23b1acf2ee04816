"""`/sync-errors [words]`: ack at once, parse the words, run the one matching service, answer ephemerally."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks import build_usage_error
from bot.commands import UsageError, parse
from handlers.commands.routes import READING, route
from handlers.commands.work import QUEUES
from handlers.later import Reply, after_ack, reply_named
from handlers.request import SlackRequest, queue_then_ack, slack_request


def handle_sync_errors_command(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Answer `/sync-errors`: summary, help, lists, queued work, modals, settings and checks.

    Work for a business app is committed before the ack (an acked request always exists); the rest is acked
    first and answered after.
    """
    try:
        command = parse(str(body.get("text") or ""))
    except UsageError as problem:
        ack()
        request = slack_request(context, client, body)
        request.reply(build_usage_error(problem.problem, problem.usage, locale=request.locale))
        return
    queue = QUEUES.get(type(command))
    if queue is not None:
        queue_then_ack(ack, context, client, body, lambda early: queue(command, early))
        return
    ack()
    if type(command) in READING:
        after_ack(Reply(COMMAND_REPLY, body), context, client)  # reading only: rendered by the reply process
    else:
        request = slack_request(context, client, body)
        request.attempt(lambda: route(command, request))


def only_reads(body: dict[str, Any]) -> bool:
    """Whether the command's words only read (acked, then handed to the reply process): parsing costs µs."""
    try:
        return type(parse(str(body.get("text") or ""))) in READING
    except UsageError:
        return False


COMMAND_REPLY = "command"


@reply_named(COMMAND_REPLY)
def answer_command(request: SlackRequest, reply: Reply) -> None:
    """Run the command of the body's words and answer it."""
    command = parse(str(reply.body.get("text") or ""))
    request.attempt(lambda: route(command, request))
