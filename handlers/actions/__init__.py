"""Buttons and other interactive elements of the bot's messages, modals and App Home."""

from __future__ import annotations

from slack_bolt import App

from bot.ids import ActionId
from bot.operations import kinds
from handlers.actions import entries, modals, quiet, work
from handlers.actions.acked import ButtonHandler

# Buttons of catalogue actions that open a modal or act at once; every other catalogue button queues its work.
OPENERS: dict[ActionId, ButtonHandler] = {
    ActionId.COUPLE: modals.handle_couple,
    ActionId.SNOOZE: modals.handle_snooze,
    ActionId.PURGE_OLDER_THAN: modals.handle_purge_older_than,
    ActionId.PURGE_ALL: modals.handle_purge_all,
    ActionId.DELETE_ERROR: entries.handle_delete_error,
}


def register(app: App) -> None:
    """Register one listener per action_id (CONTRACT.md's and the extras of bot.ids)."""
    for button, action in kinds.by_button().items():
        app.action(button)(OPENERS.get(button) or work.queue_button(action.key, button))
    app.action(ActionId.SHOW_DETAILS)(entries.handle_show_details)
    app.action(ActionId.LIST_MORE)(entries.handle_list_more)
    app.action(ActionId.HOME_REFRESH)(entries.handle_home_refresh)
    app.action(ActionId.OPEN_RECORD)(quiet.handle_quietly)
    app.action(ActionId.SNOOZE_DURATION)(quiet.handle_quietly)
    app.action(ActionId.COUPLE_REFERENCE)(quiet.handle_quietly)
    app.action(ActionId.COUPLE_SYNC)(quiet.handle_quietly)
