"""Couple modal: check the reference at once (errors in the modal), then queue it (committed, then acked)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks import Problem, build_input_error
from bot.ids import ActionId, ActionKey, BlockId
from bot.operations import requests
from bot.operations.base import InvalidInput, NotFound
from handlers.request import Asked, SlackRequest, queue_then_ack, slack_request
from handlers.views.submitted import input_value, metadata_error_id

_SYNC_CHOICES = ("none", "bc", "dataverse")


def handle_couple_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Queue the coupling (admins), or keep the modal open saying what is wrong with the reference."""
    error_id = metadata_error_id(view, body, key=context["services"].seal_key)
    reference = input_value(view, BlockId.COUPLE_REFERENCE, ActionId.COUPLE_REFERENCE) or ""
    sync = input_value(view, BlockId.COUPLE_SYNC, ActionId.COUPLE_SYNC) or "none"
    if error_id is None:
        locale = slack_request(context, client, body).locale
        unnamed = build_input_error(BlockId.COUPLE_REFERENCE, Problem.DIALOG_NAMES_NO_ERROR, locale=locale)
        ack(response_action="errors", errors=unnamed)
        return
    try:
        bc_ref, dataverse_ref = requests.couple_references(
            context["services"].db, error_id=error_id, reference=reference
        )
    except (InvalidInput, NotFound) as problem:
        locale = slack_request(context, client, body).locale
        said = build_input_error(BlockId.COUPLE_REFERENCE, problem.said, locale=locale)
        ack(response_action="errors", errors=said)
        return

    def ask(request: SlackRequest) -> Asked:
        outcome = requests.request_work(
            request.db,
            kind=ActionKey.COUPLE,
            payload={
                "error_id": error_id,
                "bc_ref": bc_ref,
                "dataverse_ref": dataverse_ref,
                "sync": sync if sync in _SYNC_CHOICES else "none",
                **request.locale_to_store,
            },
            actor=request.actor,
            response_url=None,
            dedupe_key=requests.error_target(error_id),
            deadline_seconds=request.write_deadline,
        )
        return [(outcome, True)]

    queue_then_ack(ack, context, client, body, ask)
