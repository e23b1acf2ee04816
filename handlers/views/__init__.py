"""Modal submissions: purge confirmation, snooze duration, couple reference."""

from __future__ import annotations

from slack_bolt import App

from bot.ids import CallbackId
from handlers.views import couple, purge, snooze


def register(app: App) -> None:
    """Register one listener per modal callback_id."""
    app.view(CallbackId.PURGE_CONFIRM)(purge.handle_purge_submission)
    app.view(CallbackId.SNOOZE)(snooze.handle_snooze_submission)
    app.view(CallbackId.COUPLE)(couple.handle_couple_submission)
