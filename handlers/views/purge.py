"""Purge confirmation: what the modal showed is kept on the server by view id; the submit deletes exactly
that (admins only, checked again); a submission that does not match what was shown changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks import Problem, build_problem, build_purge_modal, build_purged
from bot.operations import error_entries
from handlers.request import SlackRequest, slack_request
from handlers.views.submitted import metadata_days


def open_purge_confirmation(request: SlackRequest, days: int | None, *, not_opened: Problem) -> None:
    """Count with a cutoff fixed now, open the modal, and keep what it shows under its view id (admins)."""
    older_than = None if days is None else timedelta(days=days)
    if not request.allowed(error_entries.purge_action(older_than), target=error_entries.PURGE_TARGET):
        return
    preview = error_entries.preview_purge(request.db, older_than=older_than)
    view_id = request.open_modal_id(build_purge_modal(preview.count, days, locale=request.locale))
    if view_id is None:
        request.reply(build_problem(not_opened, locale=request.locale))
        return
    if view_id:
        error_entries.remember_shown(request.db, view_id=view_id, preview=preview, actor=request.actor)


def handle_purge_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Delete what the modal counted, with the cutoff it was counted with; nothing when it does not match."""
    readable, days = metadata_days(view)
    request = slack_request(context, client, body)
    view_id = str(view.get("id") or "")
    shown = error_entries.shown_purge(request.db, view_id=view_id) if readable and view_id else None
    older_than = None if days is None else timedelta(days=days)
    matches = shown is not None and shown.older_than == older_than
    if shown is not None and matches and shown.count == 0 and request.actor.is_admin:
        ack(response_action="update", view=build_purge_modal(0, days, locale=request.locale))
        return
    ack()
    if not readable:
        request.reply(build_problem(Problem.CONFIRMATION_UNREADABLE, locale=request.locale))
        return
    if not request.allowed(error_entries.purge_action(older_than), target=error_entries.PURGE_TARGET):
        return
    if shown is None or not matches:
        request.reply(build_problem(Problem.CONFIRMATION_MISMATCH, locale=request.locale))
        return
    channel = request.services.settings.slack_channel
    preview = shown

    def delete() -> None:
        result = error_entries.purge(
            request.db, preview=preview, actor=request.actor, channel=channel, view_id=view_id
        )
        request.reply(build_purged(result.deleted, announced=preview.count, locale=request.locale))

    request.attempt(delete)
