"""Commands that call a business app: written to the durable work queue before the ack, then "Queued …"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.commands import (
    Couple,
    CoupleCreate,
    CoupleMatch,
    DeleteRecord,
    Restore,
    Resync,
    RunNow,
    Sync,
    Uncouple,
)
from bot.ids import ActionKey
from bot.operations import requests
from bot.operations import schedule as schedules
from handlers.request import Asked, SlackRequest

RESPONSE_URL_USES = 4  # Slack allows 5 answers per response_url; the "Queued" reply takes one


def _ask(
    request: SlackRequest, kind: str, target: str, payload: dict[str, Any], *, answer_later: bool = True
) -> tuple[requests.RequestOutcome, bool]:
    outcome = requests.request_work(
        request.db,
        kind=kind,
        payload={
            **payload,
            **request.locale_to_store,
            **({} if answer_later else {requests.SILENT_KEY: True}),
        },
        actor=request.actor,
        response_url=request.response_url if answer_later else None,
        dedupe_key=target,
        deadline_seconds=request.write_deadline,
    )
    return outcome, answer_later


def resync(command: Resync, request: SlackRequest) -> Asked:
    """Re-sync the records behind errors (one work item each), or every failed record (of a mapping)."""
    if command.failed:
        target = f"failed:{command.mapping or '*'}"
        return [_ask(request, ActionKey.RESYNC_FAILED, target, {"mapping": command.mapping})]
    answer_later = len(command.error_ids) <= RESPONSE_URL_USES
    return [
        _ask(
            request,
            ActionKey.RESYNC,
            requests.error_target(error_id),
            {"error_id": error_id},
            answer_later=answer_later,
        )
        for error_id in command.error_ids
    ]


def couple(command: Couple, request: SlackRequest) -> Asked:
    """Couple two records by reference (admins)."""
    payload = {"bc_ref": command.bc_ref, "dataverse_ref": command.dataverse_ref, "sync": command.sync}
    return [_ask(request, ActionKey.COUPLE, f"couple:{command.bc_ref}|{command.dataverse_ref}", payload)]


def couple_match(command: CoupleMatch, request: SlackRequest) -> Asked:
    """Couple a mapping's matching records (admins)."""
    return [_ask(request, ActionKey.COUPLE_MATCH, f"mapping:{command.mapping}", {"mapping": command.mapping})]


def couple_create(command: CoupleCreate, request: SlackRequest) -> Asked:
    """Create the partner of one uncoupled record and couple it (admins)."""
    return [_ask(request, ActionKey.COUPLE_CREATE, f"create:{command.ref}", {"ref": command.ref})]


def uncouple(command: Uncouple, request: SlackRequest) -> Asked:
    """Remove a record's coupling (admins)."""
    return [_ask(request, ActionKey.UNCOUPLE, f"record:{command.ref}", {"ref": command.ref})]


def restore(command: Restore, request: SlackRequest) -> Asked:
    """Recreate the deleted side of a coupled record (admins)."""
    target = requests.error_target(command.error_id)
    return [_ask(request, ActionKey.RESTORE_RECORD, target, {"error_id": command.error_id})]


def delete_record(command: DeleteRecord, request: SlackRequest) -> Asked:
    """Delete the surviving side of a coupled record and the coupling (admins)."""
    target = requests.error_target(command.error_id)
    return [_ask(request, ActionKey.DELETE_RECORD, target, {"error_id": command.error_id})]


def sync(command: Sync, request: SlackRequest) -> Asked:
    """Synchronize now: the named mappings (anyone) or everything (admins; naming every mapping included)."""
    names = ",".join(sorted({name.upper() for name in command.mappings})) or "*"
    target = f"sync:{names}" + (":full" if command.full else "")
    return [_ask(request, ActionKey.SYNC, target, {"mappings": list(command.mappings), "full": command.full})]


def run_now(command: RunNow, request: SlackRequest) -> Asked:
    """Queue a sync of one mapping now (admins)."""
    outcome = schedules.run_now(request.db, command.mapping, request.actor, response_url=request.response_url)
    return [(outcome, True)]


QueueRoute = Callable[[Any, SlackRequest], Asked]

# The commands whose work is committed before the ack (bot.commands' type -> how to queue it).
QUEUES: dict[type[Any], QueueRoute] = {
    Resync: resync,
    Couple: couple,
    CoupleMatch: couple_match,
    CoupleCreate: couple_create,
    Uncouple: uncouple,
    Restore: restore,
    DeleteRecord: delete_record,
    Sync: sync,
    RunNow: run_now,
}
