"""`doctor`: slow checks against both business apps, run after ack and answered when done."""

from __future__ import annotations

from bot.blocks import build_doctor_report, build_doctor_working
from bot.commands import Doctor
from bot.operations import reports
from handlers.request import SlackRequest


def doctor(_command: Doctor, request: SlackRequest) -> None:
    """Say the checks started, run them, answer with one line per check."""
    request.reply(build_doctor_working(locale=request.locale))
    results = reports.check_setup(request.services)
    request.reply(build_doctor_report(results, locale=request.locale))
