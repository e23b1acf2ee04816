"""Purge confirmation: count again at submit, delete, say how many went (admins only, checked again)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks import AdminAction, Problem, build_problem, build_purge_modal, build_purged
from bot.operations import errorlog
from handlers.request import slack_request
from handlers.views.submitted import metadata_days


def handle_purge_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Delete the entries the modal counted (re-counted now); nothing when the modal cannot be read."""
    readable, days = metadata_days(view)
    request = slack_request(context, client, body)
    older_than = None if days is None else timedelta(days=days)
    if (
        readable
        and request.actor.is_admin
        and errorlog.count_purgeable(request.db, older_than=older_than) == 0
    ):
        ack(response_action="update", view=build_purge_modal(0, days, locale=request.locale))
        return
    ack()
    if not readable:
        request.reply(build_problem(Problem.CONFIRMATION_UNREADABLE, locale=request.locale))
        return
    action = "purge_all" if days is None else "purge_older_than"
    if not request.allowed(AdminAction.PURGE, action=action, target="errors"):
        return
    channel = request.services.settings.slack_channel

    def delete() -> None:
        result = errorlog.purge(request.db, older_than=older_than, actor=request.actor, channel=channel)
        request.reply(build_purged(result.deleted, locale=request.locale))

    request.attempt(delete)
