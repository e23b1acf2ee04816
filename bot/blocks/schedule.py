"""The scheduled syncs: the list (interval, state, last result, next run) and the answers to changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.blocks import kit, mrkdwn
from bot.blocks.message import Message
from bot.blocks.replies import build_action_result, lines_blocks
from bot.blocks.wording import Word, Wording
from bot.commands import format_duration

if TYPE_CHECKING:
    from bot.operations.schedule import ScheduleEntry

RESULT_CHARS = 200
FAILED = "failed:"  # ScheduleEntry.last_result: "ok", "failed: <message>", "running" or None


def last_result(result: str, w: Wording) -> str:
    """A ScheduleEntry's last result in words (the failure's message escaped)."""
    if result == "ok":
        return w.word(Word.LAST_RUN_OK)
    if result == "running":
        return w.word(Word.RUNNING_NOW)
    if result.startswith(FAILED):
        return w.last_run_failed(mrkdwn.escape(mrkdwn.cut(result[len(FAILED) :], RESULT_CHARS)))
    return w.last_run(mrkdwn.escape(mrkdwn.cut(result, RESULT_CHARS)))


def schedule_line(entry: ScheduleEntry, w: Wording) -> str:
    """ "*CUSTOMER* · every 30m · ⏸ paused · last run ok · next <date>"."""
    parts = [
        f"*{mrkdwn.escape(entry.mapping)}*",
        w.every(format_duration(timedelta(minutes=entry.interval_minutes))),
    ]
    if not entry.enabled:
        parts.append(w.word(Word.SCHEDULE_DISABLED))
    elif entry.paused:
        parts.append(w.word(Word.SCHEDULE_PAUSED))
    if entry.last_result:
        parts.append(last_result(entry.last_result, w))
    if entry.next_run_at is not None:
        parts.append(w.next_at(entry.next_run_at))
    return " · ".join(parts)


def build_schedule(entries: Sequence[ScheduleEntry], *, locale: str = "en") -> Message:
    """Every mapping's scheduled sync, one line each ("Nothing is scheduled." when there is none)."""
    w = Wording(locale)
    lines = [schedule_line(entry, w) for entry in entries] or [w.word(Word.NO_SCHEDULE)]
    return Message(
        text=w.word(Word.SCHEDULE_TITLE),
        blocks=lines_blocks(lines, w, head=[kit.header(w.word(Word.SCHEDULE_TITLE))]),
    )


def build_interval_set(mapping: str, every: timedelta, *, locale: str = "en") -> Message:
    """ "✅ *CUSTOMER* now syncs every 1h."."""
    w = Wording(locale)
    text = w.interval_set(mrkdwn.escape(mapping), format_duration(every))
    return build_action_result(True, text, locale=locale)


def build_paused(mapping: str, *, locale: str = "en") -> Message:
    """ "⏸ *CUSTOMER* is paused: it does not sync on its schedule until resumed."."""
    text = Wording(locale).paused_now(mrkdwn.escape(mapping))
    return Message(text=text, blocks=[kit.section(text)])


def build_resumed(mapping: str, *, locale: str = "en") -> Message:
    """ "▶️ *CUSTOMER* syncs on its schedule again."."""
    text = Wording(locale).resumed_now(mrkdwn.escape(mapping))
    return Message(text=text, blocks=[kit.section(text)])
