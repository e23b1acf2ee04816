"""Commands on the error log itself: purge (confirmed in a modal) and snooze (done right after ack)."""

from __future__ import annotations

from datetime import timedelta

from bot.blocks import (
    Problem,
    build_snoozed,
    build_usage_error,
)
from bot.commands import USAGE, Purge, Snooze
from bot.ids import COMMAND
from bot.operations import error_entries
from handlers.request import SlackRequest
from handlers.views.purge import open_purge_confirmation

DAY = timedelta(days=1)


def purge(command: Purge, request: SlackRequest) -> None:
    """Open the purge modal saying how many entries would go (admins); nothing is deleted before submit."""
    days: int | None = None
    if command.older_than is not None:
        if command.older_than % DAY:
            usage = f"{COMMAND} {USAGE['purge']}"
            request.reply(build_usage_error(Problem.WHOLE_DAYS, usage, locale=request.locale))
            return
        days = command.older_than // DAY
    open_purge_confirmation(request, days, not_opened=Problem.CONFIRMATION_NOT_OPENED)


def snooze(command: Snooze, request: SlackRequest) -> None:
    """Hide an error's notifications for a while; its message is edited to say until when."""
    error = error_entries.snooze(
        request.db, error_id=command.error_id, duration=command.duration, actor=request.actor
    )
    request.reply(build_snoozed(command.error_id, error.snoozed_until, locale=request.locale))
