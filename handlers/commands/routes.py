"""Which function answers which typed command (bot.commands.parse's result)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import commands as c
from handlers.commands import checks, cleanup, reading, scheduling, work
from handlers.request import SlackRequest

Route = Callable[[Any, SlackRequest], None]

ROUTES: dict[type[Any], Route] = {
    c.Summary: reading.summary,
    c.Help: reading.help_,
    c.ListErrors: reading.list_errors,
    c.ListSkipped: reading.skipped,
    c.ShowError: reading.show,
    c.Status: reading.status,
    c.Audit: reading.audit,
    c.Purge: cleanup.purge,
    c.Snooze: cleanup.snooze,
    c.Schedule: scheduling.show,
    c.ScheduleEvery: scheduling.every,
    c.Pause: scheduling.pause,
    c.Resume: scheduling.resume,
    c.Doctor: checks.doctor,
}


# Commands that only read and answer (no modal, no slow call to a business app): replies on the reply pool.
READING: frozenset[type[Any]] = frozenset(
    {c.Summary, c.Help, c.ListErrors, c.ShowError, c.Status, c.Audit, c.Schedule}
)


def route(command: c.Command, request: SlackRequest) -> None:
    """Run the command's one service and answer (commands that queue work: see work.QUEUES)."""
    queue = work.QUEUES.get(type(command))
    if queue is not None:
        for outcome, answer_later in queue(command, request):
            request.answer_request(outcome, answer_later=answer_later)
        return
    ROUTES[type(command)](command, request)
