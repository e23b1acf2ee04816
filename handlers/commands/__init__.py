"""The `/sync-errors` slash command."""

from __future__ import annotations

from slack_bolt import App

from bot.ids import COMMAND
from handlers.acking import answer_at_ack
from handlers.commands.sync_errors import handle_sync_errors_command, only_reads


def register(app: App) -> None:
    """Register the slash command's listener."""
    app.command(COMMAND)(answer_at_ack(handle_sync_errors_command, at_once=only_reads))
