"""What a click carries: the clicked element's value read as an error id or a number of days."""

from __future__ import annotations

from typing import Any

from bot.blocks import Problem, build_problem
from handlers.request import SlackRequest


def clicked_value(action: dict[str, Any]) -> str:
    """The clicked element's value ("" when it has none)."""
    return str(action.get("value") or "")


def clicked_number(action: dict[str, Any]) -> int | None:
    """The value as a positive whole number (an error id, days), or None when it is not one."""
    value = clicked_value(action).strip().lstrip("#")
    if not value.isdigit() or not 0 < int(value) < 2**63:
        return None
    return int(value)


def clicked_candidate(action: dict[str, Any]) -> tuple[int | None, int | None]:
    """A candidate button's value "<error id>:<index>" as numbers, or (None, None) when it is not one."""
    error_part, _, index_part = clicked_value(action).partition(":")
    error_id = clicked_number({"value": error_part})
    if error_id is None or not index_part.isdigit() or int(index_part) > 1000:
        return None, None
    return error_id, int(index_part)


def clicked_or_say(request: SlackRequest, action: dict[str, Any], problem: Problem) -> int | None:
    """The clicked number, or None after telling the asker `problem` (the click names no error or days)."""
    number = clicked_number(action)
    if number is None:
        request.reply(build_problem(problem, locale=request.locale))
    return number
