"""Commands on the error log itself: purge (confirmed in a modal) and snooze (done right after ack)."""

from __future__ import annotations

from datetime import timedelta

from bot.blocks import build_purge_modal, build_usage_error
from bot.commands import USAGE, Purge, Snooze
from bot.ids import COMMAND
from bot.operations import errorlog
from handlers import texts
from handlers.request import SlackRequest

DAY = timedelta(days=1)


def purge(command: Purge, request: SlackRequest) -> None:
    """Open the purge modal saying how many entries would go (admins); nothing is deleted before submit."""
    action = "purge_all" if command.older_than is None else "purge_older_than"
    if not request.allowed("purge", action=action, target="errors"):
        return
    days: int | None = None
    if command.older_than is not None:
        if command.older_than % DAY:
            problem = "in Slack, --older-than takes whole days (like 7d); the terminal takes hours too"
            request.reply(build_usage_error(problem, f"{COMMAND} {USAGE['purge']}", locale=request.locale))
            return
        days = command.older_than // DAY
    count = errorlog.count_purgeable(request.db, older_than=command.older_than)
    if not request.open_modal(build_purge_modal(count, days, locale=request.locale)):
        request.reply(texts.failed("Slack did not open the confirmation; try again.", locale=request.locale))


def snooze(command: Snooze, request: SlackRequest) -> None:
    """Hide an error's notifications for a while; its message is edited to say until when."""
    error = errorlog.snooze(
        request.db, error_id=command.error_id, duration=command.duration, actor=request.actor
    )
    request.reply(texts.snoozed(command.error_id, error.snoozed_until, locale=request.locale))
