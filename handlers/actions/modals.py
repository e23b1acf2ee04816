"""Buttons that open a modal at once with the click's trigger_id: Couple…, Snooze…, the two purges."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.views import View

from bot.blocks import (
    Problem,
    build_already_done,
    build_couple_modal,
    build_problem,
    build_snooze_modal,
)
from bot.ids import ActionKey, CallbackId
from bot.operations import error_entries
from bot.operations.requests import error_target
from handlers.actions.acked import acked
from handlers.actions.clicked import clicked_number, clicked_or_say
from handlers.request import SlackRequest
from handlers.seal import seal
from handlers.views.purge import open_purge_confirmation
from storage.models import ErrorStatus, SyncError


def _open(request: SlackRequest, view: View, *, purpose: str | None = None) -> None:
    """Open `view`; with a purpose, its private_metadata is sealed for this user (checked at submit)."""
    if purpose is not None and view.private_metadata:
        view.private_metadata = seal(
            request.services.seal_key, purpose=purpose, value=view.private_metadata, user_id=request.actor.id
        )
    if not request.open_modal(view):
        request.reply(build_problem(Problem.DIALOG_NOT_OPENED, locale=request.locale))


def _open_error(request: SlackRequest, action: dict[str, Any]) -> SyncError | None:
    """The clicked error while it is open; otherwise answer why not (gone, already resolved or snoozed)."""
    error_id = clicked_or_say(request, action, Problem.NO_ERROR)
    if error_id is None:
        return None
    error = error_entries.load_error(request.db, error_id=error_id)
    if error.status != ErrorStatus.OPEN:
        request.reply(build_already_done(error, locale=request.locale))
        return None
    return error


@acked
def handle_couple(request: SlackRequest, action: dict[str, Any]) -> None:
    """Couple…: ask for the other app's record (admins)."""
    if not request.allowed(ActionKey.COUPLE, target=error_target(clicked_number(action) or 0)):
        return
    error = _open_error(request, action)
    if error is not None:
        _open(request, build_couple_modal(error, locale=request.locale), purpose=CallbackId.COUPLE)


@acked
def handle_snooze(request: SlackRequest, action: dict[str, Any]) -> None:
    """Snooze…: ask for how long."""
    error = _open_error(request, action)
    if error is not None:
        _open(request, build_snooze_modal(error, locale=request.locale), purpose=CallbackId.SNOOZE)


@acked
def handle_purge_older_than(request: SlackRequest, action: dict[str, Any]) -> None:
    """Delete entries older than N days: show how many before anything is deleted (admins)."""
    days = clicked_or_say(request, action, Problem.NO_DAYS)
    if days is None:
        return
    open_purge_confirmation(request, days, not_opened=Problem.DIALOG_NOT_OPENED)


@acked
def handle_purge_all(request: SlackRequest, _action: dict[str, Any]) -> None:
    """Delete all entries: show how many before anything is deleted (admins)."""
    open_purge_confirmation(request, None, not_opened=Problem.DIALOG_NOT_OPENED)
