"""Buttons that call a business app: queued on the durable work queue once, answered "Queued …" at once."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks import Problem, build_problem
from bot.operations import requests
from bot.operations.base import InvalidInput, NotFound
from handlers.actions.clicked import clicked_candidate, clicked_number
from handlers.request import Asked, SlackRequest, queue_then_ack, slack_request


def _queue(
    kind: str,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    *,
    error_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Queue `kind` for the clicked error, committed before the ack (admins only where the kind says so).

    `error_id` and `extra` come from the server's own records when the click names more than an error.
    """
    error_id = clicked_number(action) if error_id is None and extra is None else error_id
    if error_id is None:
        ack()
        request = slack_request(context, client, body)
        request.reply(build_problem(Problem.NO_ERROR, locale=request.locale))
        return

    def ask(request: SlackRequest) -> Asked:
        outcome = requests.request_work(
            request.db,
            kind=kind,
            payload={"error_id": error_id, **(extra or {}), **request.locale_to_store},
            actor=request.actor,
            response_url=request.response_url,
            dedupe_key=requests.error_target(error_id),
            deadline_seconds=request.write_deadline,
        )
        return [(outcome, True)]

    queue_then_ack(ack, context, client, body, ask)


def handle_resync(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Re-sync: re-run the record behind the error."""
    _queue(requests.RESYNC, ack, body, action, client, context)


def handle_uncouple(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Remove coupling (admins)."""
    _queue(requests.UNCOUPLE, ack, body, action, client, context)


def handle_restore_record(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Restore record: recreate the deleted side from the surviving one (admins)."""
    _queue(requests.RESTORE_RECORD, ack, body, action, client, context)


def handle_delete_record(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Delete record: delete the surviving side and the coupling (admins)."""
    _queue(requests.DELETE_RECORD, ack, body, action, client, context)


def handle_couple_dependency(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Couple the missing dependency (admins)."""
    _queue(requests.COUPLE_DEPENDENCY, ack, body, action, client, context)


def handle_keep_bc(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Update conflict: Business Central's values win."""
    _queue(requests.KEEP_BC, ack, body, action, client, context)


def handle_keep_dataverse(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Update conflict: Dataverse's values win."""
    _queue(requests.KEEP_DATAVERSE, ack, body, action, client, context)


def handle_couple_candidate(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Couple to this one: couple a several-matches error's record to the candidate clicked (admins)."""
    error_id, index = clicked_candidate(action)
    refs: dict[str, Any] = {}
    if error_id is not None and index is not None:
        try:
            bc_ref, dataverse_ref = requests.candidate_references(
                context["services"].db, error_id=error_id, index=index
            )
            refs = {"bc_ref": bc_ref, "dataverse_ref": dataverse_ref, "sync": "none"}
        except (InvalidInput, NotFound):
            error_id = None
    _queue(
        requests.COUPLE, ack, body, action, client, context, error_id=error_id if refs else None, extra=refs
    )


def handle_couple_create(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Create new: create the partner of the error's uncoupled record in the other app (admins)."""
    error_id = clicked_number(action)
    ref: dict[str, Any] = {}
    if error_id is not None:
        try:
            ref = {"ref": requests.create_reference(context["services"].db, error_id=error_id)}
        except (InvalidInput, NotFound):
            error_id = None
    _queue(
        requests.COUPLE_CREATE,
        ack,
        body,
        action,
        client,
        context,
        error_id=error_id if ref else None,
        extra=ref,
    )
