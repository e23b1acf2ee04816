"""Buttons that call a business app: queued on the durable work queue once, answered "Queued …" at once.

One handler serves every such button (`queue_button`); the catalogue (bot.operations.kinds) says which work a
button queues and who may ask for it. A button whose value names more than the error reads the work's
arguments from the server's own records (`ARGUMENTS`), never from what the button says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.blocks import Problem, build_problem
from bot.ids import ActionId
from bot.operations import requests
from bot.operations.base import InvalidInput, NotFound
from handlers.actions.acked import ButtonHandler
from handlers.actions.clicked import clicked_candidate, clicked_number
from handlers.request import Asked, SlackRequest, queue_then_ack, slack_request

# (error id, extra payload) of a click, or None when the click names nothing that can be done.
Arguments = tuple[int, dict[str, Any]] | None


def _error_only(_db: Engine, action: dict[str, Any]) -> Arguments:
    error_id = clicked_number(action)
    return None if error_id is None else (error_id, {})


def _candidate(db: Engine, action: dict[str, Any]) -> Arguments:
    """Couple to this one: the several-matches error's record and the candidate clicked, as stored."""
    error_id, index = clicked_candidate(action)
    if error_id is None or index is None:
        return None
    try:
        bc_ref, dataverse_ref = requests.candidate_references(db, error_id=error_id, index=index)
    except (InvalidInput, NotFound):
        return None
    return error_id, {"bc_ref": bc_ref, "dataverse_ref": dataverse_ref, "sync": "none"}


def _create(db: Engine, action: dict[str, Any]) -> Arguments:
    """Create new: the record behind the error, whose partner is created in the other app."""
    error_id = clicked_number(action)
    if error_id is None:
        return None
    try:
        return error_id, {"ref": requests.create_reference(db, error_id=error_id)}
    except (InvalidInput, NotFound):
        return None


ARGUMENTS: dict[ActionId, Callable[[Engine, dict[str, Any]], Arguments]] = {
    ActionId.COUPLE_CANDIDATE: _candidate,
    ActionId.COUPLE_CREATE: _create,
}


def queue_button(kind: str, button: ActionId) -> ButtonHandler:
    """The handler of `button`: queue `kind` for the clicked error, committed before the ack."""
    arguments = ARGUMENTS.get(button, _error_only)

    def handle(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        clicked = arguments(context["services"].db, action)
        if clicked is None:
            ack()
            request = slack_request(context, client, body)
            request.reply(build_problem(Problem.NO_ERROR, locale=request.locale))
            return
        error_id, extra = clicked

        def ask(request: SlackRequest) -> Asked:
            outcome = requests.request_work(
                request.db,
                kind=kind,
                payload={"error_id": error_id, **extra, **request.locale_to_store},
                actor=request.actor,
                response_url=request.response_url,
                dedupe_key=requests.error_target(error_id),
                deadline_seconds=request.write_deadline,
            )
            return [(outcome, True)]

        queue_then_ack(ack, context, client, body, ask)

    handle.__name__ = f"handle_{button.value}"
    handle.__doc__ = f"Queue {kind} for the clicked error ({button.value})."
    return handle
