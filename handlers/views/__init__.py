"""Modal submissions: purge confirmation, snooze duration, couple reference."""

from __future__ import annotations

from slack_bolt import App

from bot.ids import CallbackId
from handlers.acking import answer_at_ack
from handlers.views import couple, purge, snooze


def register(app: App) -> None:
    """Register one listener per modal callback_id."""
    app.view(CallbackId.PURGE_CONFIRM)(answer_at_ack(purge.handle_purge_submission))
    app.view(CallbackId.SNOOZE)(answer_at_ack(snooze.handle_snooze_submission))
    app.view(CallbackId.COUPLE)(answer_at_ack(couple.handle_couple_submission))
