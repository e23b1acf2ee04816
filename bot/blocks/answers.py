"""Answers to work asked for (queued, already queued) and to actions done at once (deleted, snoozed, …)."""

from __future__ import annotations

from datetime import datetime

from bot.blocks import kit, mrkdwn
from bot.blocks.message import Message
from bot.blocks.replies import build_action_result
from bot.blocks.wording import Problem, Word, Wording
from bot.phrases import Phrase

TARGET_CHARS = 120
INPUT_ERROR_CHARS = 300
ERROR_TARGET = "error"  # bot.operations.requests.error_target: "error:17"


def target_label(target: str) -> str:
    """ "#17" for an error target ("error:17"), else the escaped target in code ("`mapping:CUSTOMER`")."""
    prefix, _colon, rest = target.partition(":")
    if prefix == ERROR_TARGET and rest.isdigit():
        return f"#{int(rest)}"
    return f"`{mrkdwn.escape(mrkdwn.cut(target, TARGET_CHARS))}`"


def _line(text: str) -> Message:
    return Message(text=text, blocks=[kit.section(text)])


def build_queued(kind: str, target: str, *, answer_later: bool = True, locale: str = "en") -> Message:
    """ "⏳ Queued: Re-sync of #17. I will answer here when it is done." (or: the messages will tell)."""
    w = Wording(locale)
    line = w.queued(w.work(kind), target_label(target))
    return _line(f"{line} {w.word(Word.ANSWER_LATER) if answer_later else w.word(Word.ANSWER_ON_MESSAGES)}")


def build_already_queued(
    kind: str, target: str, *, by: str | None, at: datetime, running: bool = False, locale: str = "en"
) -> Message:
    """ "⏳ Re-sync of #17 is already queued by @x (<date>)." (or already running)."""
    w = Wording(locale)
    return _line(w.already_queued(w.work(kind), target_label(target), mrkdwn.user(by), at, running))


def build_entry_deleted(error_id: int, *, locale: str = "en") -> Message:
    """ "✅ Entry #17 deleted (the records stay as they are)."."""
    return build_action_result(True, Wording(locale).entry_deleted(error_id), locale=locale)


def build_purged(count: int, *, announced: int | None = None, locale: str = "en") -> Message:
    """ "✅ Deleted 1,234 error entries.", and why when fewer went than the confirmation `announced`."""
    w = Wording(locale)
    text = w.purged(count)
    if announced is not None and announced > count:
        text += " " + w.purge_stayed(announced - count, announced)
    return build_action_result(True, text, locale=locale)


def build_snoozed(error_id: int, until: datetime | None, *, locale: str = "en") -> Message:
    """ "✅ #17: 😴 Snoozed until <date>"."""
    return build_action_result(True, f"#{error_id}: {Wording(locale).snoozed(until, None)}", locale=locale)


def build_problem(problem: Problem, *, locale: str = "en") -> Message:
    """ "⚠️ That did not work: This button does not name an error." (our words for what went wrong)."""
    return build_action_result(False, Wording(locale).problem(problem), locale=locale)


def build_failure(reason: Phrase | str, *, locale: str = "en") -> Message:
    """ "⚠️ That did not work: …": our phrase in the reader's words, or an untrusted text escaped."""
    text = Wording(locale).say(reason) if isinstance(reason, Phrase) else mrkdwn.escape(reason)
    return build_action_result(False, text, locale=locale)


def build_input_error(
    block_id: str, problem: Problem | Phrase | str, *, locale: str = "en", limit: int = INPUT_ERROR_CHARS
) -> dict[str, str]:
    """A modal's `errors` answer: the problem (ours, or a service's plain text) under one input block."""
    if isinstance(problem, Problem):
        text = Wording(locale).problem(problem)
    elif isinstance(problem, Phrase):
        text = Wording(locale).say_plain(problem)
    else:
        text = problem
    return {block_id: mrkdwn.cut(text, limit)}
