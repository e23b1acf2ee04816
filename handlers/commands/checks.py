"""`doctor`: slow checks against both business apps, run after ack and answered when done."""

from __future__ import annotations

from bot.commands import Doctor
from bot.doctor import CHECK_TITLES
from bot.operations import reports
from handlers import texts
from handlers.request import SlackRequest


def doctor(_command: Doctor, request: SlackRequest) -> None:
    """Say the checks started, run them, answer with one line per check."""
    request.reply(texts.doctor_working(locale=request.locale))
    results = reports.check_setup(request.services)
    request.reply(texts.doctor_results(results, CHECK_TITLES, locale=request.locale))
