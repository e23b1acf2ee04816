"""Buttons and other interactive elements of the bot's messages, modals and App Home."""

from __future__ import annotations

from slack_bolt import App

from bot.ids import ActionId
from handlers.actions import entries, modals, quiet, work


def register(app: App) -> None:
    """Register one listener per action_id (CONTRACT.md's and the extras of bot.ids)."""
    app.action(ActionId.RESYNC)(work.handle_resync)
    app.action(ActionId.UNCOUPLE)(work.handle_uncouple)
    app.action(ActionId.RESTORE_RECORD)(work.handle_restore_record)
    app.action(ActionId.DELETE_RECORD)(work.handle_delete_record)
    app.action(ActionId.COUPLE_DEPENDENCY)(work.handle_couple_dependency)
    app.action(ActionId.COUPLE_CANDIDATE)(work.handle_couple_candidate)
    app.action(ActionId.COUPLE_CREATE)(work.handle_couple_create)
    app.action(ActionId.KEEP_BC)(work.handle_keep_bc)
    app.action(ActionId.KEEP_DATAVERSE)(work.handle_keep_dataverse)
    app.action(ActionId.COUPLE)(modals.handle_couple)
    app.action(ActionId.SNOOZE)(modals.handle_snooze)
    app.action(ActionId.PURGE_OLDER_THAN)(modals.handle_purge_older_than)
    app.action(ActionId.PURGE_ALL)(modals.handle_purge_all)
    app.action(ActionId.DELETE_ERROR)(entries.handle_delete_error)
    app.action(ActionId.SHOW_DETAILS)(entries.handle_show_details)
    app.action(ActionId.LIST_MORE)(entries.handle_list_more)
    app.action(ActionId.HOME_REFRESH)(entries.handle_home_refresh)
    app.action(ActionId.OPEN_RECORD)(quiet.handle_quietly)
    app.action(ActionId.SNOOZE_DURATION)(quiet.handle_quietly)
    app.action(ActionId.COUPLE_REFERENCE)(quiet.handle_quietly)
    app.action(ActionId.COUPLE_SYNC)(quiet.handle_quietly)
