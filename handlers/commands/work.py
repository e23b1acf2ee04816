"""Commands that call a business app: written to the durable work queue, answered "Queued …" at once."""

from __future__ import annotations

from typing import Any

from bot.commands import Couple, CoupleMatch, DeleteRecord, Restore, Resync, Sync, Uncouple
from bot.operations import requests
from handlers.request import SlackRequest

RESPONSE_URL_USES = 4  # Slack allows 5 answers per response_url; the "Queued" reply takes one


def _ask(
    request: SlackRequest, kind: str, target: str, payload: dict[str, Any], *, answer_later: bool = True
) -> None:
    outcome = requests.request_work(
        request.db,
        kind=kind,
        payload={
            **payload,
            "locale": request.locale,
            **({} if answer_later else {requests.SILENT_KEY: True}),
        },
        actor=request.actor,
        response_url=request.response_url if answer_later else None,
        dedupe_key=target,
    )
    request.answer_request(outcome, answer_later=answer_later)


def resync(command: Resync, request: SlackRequest) -> None:
    """Re-sync the records behind errors (one work item each), or every failed record (of a mapping)."""
    if command.failed:
        target = f"failed:{command.mapping or '*'}"
        _ask(request, requests.RESYNC_FAILED, target, {"mapping": command.mapping})
        return
    answer_later = len(command.error_ids) <= RESPONSE_URL_USES
    for error_id in command.error_ids:
        target = requests.error_target(error_id)
        _ask(request, requests.RESYNC, target, {"error_id": error_id}, answer_later=answer_later)


def couple(command: Couple, request: SlackRequest) -> None:
    """Couple two records by reference (admins)."""
    payload = {"bc_ref": command.bc_ref, "dataverse_ref": command.dataverse_ref, "sync": command.sync}
    _ask(request, requests.COUPLE, f"couple:{command.bc_ref}|{command.dataverse_ref}", payload)


def couple_match(command: CoupleMatch, request: SlackRequest) -> None:
    """Couple a mapping's matching records (admins)."""
    _ask(request, requests.COUPLE_MATCH, f"mapping:{command.mapping}", {"mapping": command.mapping})


def uncouple(command: Uncouple, request: SlackRequest) -> None:
    """Remove a record's coupling (admins)."""
    _ask(request, requests.UNCOUPLE, f"record:{command.ref}", {"ref": command.ref})


def restore(command: Restore, request: SlackRequest) -> None:
    """Recreate the deleted side of a coupled record (admins)."""
    target = requests.error_target(command.error_id)
    _ask(request, requests.RESTORE_RECORD, target, {"error_id": command.error_id})


def delete_record(command: DeleteRecord, request: SlackRequest) -> None:
    """Delete the surviving side of a coupled record and the coupling (admins)."""
    target = requests.error_target(command.error_id)
    _ask(request, requests.DELETE_RECORD, target, {"error_id": command.error_id})


def sync(command: Sync, request: SlackRequest) -> None:
    """Synchronize now: the named mappings (anyone) or everything (admins)."""
    names = ",".join(command.mappings) or "*"
    target = f"sync:{names}" + (":full" if command.full else "")
    _ask(request, requests.SYNC, target, {"mappings": list(command.mappings), "full": command.full})
