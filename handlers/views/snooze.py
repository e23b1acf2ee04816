"""Snooze modal: read the chosen duration, snooze the error; its message is edited to say until when."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks import Problem, build_input_error
from bot.commands import parse_duration
from bot.ids import ActionId, BlockId
from bot.operations import error_entries
from handlers.request import slack_request
from handlers.views.submitted import input_value, metadata_error_id

SNOOZE_ERROR_CHARS = 150


def handle_snooze_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Snooze for the chosen time, or keep the modal open naming what is wrong."""
    error_id = metadata_error_id(view, body, key=context["services"].seal_key)
    choice = input_value(view, BlockId.SNOOZE_DURATION, ActionId.SNOOZE_DURATION) or ""
    try:
        duration = parse_duration(choice)
    except ValueError as problem:
        ack(
            response_action="errors",
            errors=build_input_error(BlockId.SNOOZE_DURATION, str(problem), limit=SNOOZE_ERROR_CHARS),
        )
        return
    if error_id is None:
        locale = slack_request(context, client, body).locale
        unnamed = build_input_error(BlockId.SNOOZE_DURATION, Problem.DIALOG_NAMES_NO_ERROR, locale=locale)
        ack(response_action="errors", errors=unnamed)
        return
    ack()
    request = slack_request(context, client, body)

    def snooze() -> None:
        error_entries.snooze(request.db, error_id=error_id, duration=duration, actor=request.actor)

    request.attempt(snooze)
