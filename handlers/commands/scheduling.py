"""The scheduled syncs: show them (anyone), change interval, pause, resume (admins); run now: work.py."""

from __future__ import annotations

from bot.blocks import build_interval_set, build_paused, build_resumed, build_schedule
from bot.commands import Pause, Resume, Schedule, ScheduleEvery
from bot.operations import schedule as schedules
from handlers.request import SlackRequest


def show(_command: Schedule, request: SlackRequest) -> None:
    """Every mapping's interval, state, last result and next run."""
    default = request.services.settings.sync_interval_minutes
    rows = schedules.list_schedule(request.db, default_minutes=default)
    request.reply(build_schedule(rows, locale=request.locale))


def every(command: ScheduleEvery, request: SlackRequest) -> None:
    """Change how often a mapping syncs."""
    row = schedules.set_interval(request.db, command.mapping, command.every, request.actor)
    request.reply(build_interval_set(row.name, command.every, locale=request.locale))


def pause(command: Pause, request: SlackRequest) -> None:
    """Pause a mapping's scheduled sync."""
    row = schedules.pause(request.db, command.mapping, request.actor)
    request.reply(build_paused(row.name, locale=request.locale))


def resume(command: Resume, request: SlackRequest) -> None:
    """Resume a mapping's scheduled sync."""
    row = schedules.resume(request.db, command.mapping, request.actor)
    request.reply(build_resumed(row.name, locale=request.locale))
