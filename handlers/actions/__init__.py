"""Buttons and other interactive elements of the bot's messages, modals and App Home."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.ids import ActionId
from bot.operations import kinds
from handlers.acking import answer_at_ack, is_done_at_ack
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

Listener = Callable[..., None]
ROUTE_ARGUMENTS = ("ack", "body", "action", "client", "context")  # what a route's parameters may name


def build_routes() -> dict[ActionId, Listener]:
    """One listener per action_id (CONTRACT.md's and the extras of bot.ids); ValueError on a second one."""
    routes: dict[ActionId, Listener] = {}

    def add(action_id: ActionId, listener: Listener) -> None:
        if action_id in routes:
            raise ValueError(f"{action_id} has two listeners")
        routes[action_id] = listener

    for button, action in kinds.by_button().items():
        add(button, OPENERS.get(button) or work.queue_button(action.key, button))
    add(ActionId.SHOW_DETAILS, entries.handle_show_details)
    add(ActionId.LIST_MORE, entries.handle_list_more)
    add(ActionId.HOME_REFRESH, entries.handle_home_refresh)
    add(ActionId.OPEN_RECORD, quiet.handle_quietly)
    add(ActionId.SNOOZE_DURATION, quiet.handle_quietly)
    add(ActionId.COUPLE_REFERENCE, quiet.handle_quietly)
    add(ActionId.COUPLE_SYNC, quiet.handle_quietly)
    return routes


def action_ids_pattern(action_ids: Mapping[ActionId, Any]) -> re.Pattern[str]:
    """The pattern Bolt matches a click's action_id with: exactly one of `action_ids`, nothing else."""
    return re.compile("^(?:" + "|".join(re.escape(str(a)) for a in sorted(action_ids)) + ")$")


def route_actions(routes: Mapping[ActionId, Listener]) -> Listener:
    """One Bolt listener for every action_id: calls the route of the clicked one with the arguments it names.

    Bolt tries each listener's matcher in turn on every request; one listener instead of one per action_id
    saves a click those ~20 matchers before its ack.
    """
    named = {action_id: tuple(inspect.signature(route).parameters) for action_id, route in routes.items()}
    for action_id, names in named.items():
        unknown = set(names) - set(ROUTE_ARGUMENTS)
        if unknown:
            raise ValueError(f"the listener of {action_id} asks for {sorted(unknown)}")
    by_id = {str(action_id): (route, named[action_id]) for action_id, route in routes.items()}

    def handle_action(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """Run the listener of the clicked action_id."""
        route, names = by_id[str(action.get("action_id"))]
        given = {"ack": ack, "body": body, "action": action, "client": client, "context": context}
        route(**{name: given[name] for name in names})

    return handle_action


def done_at_ack_clicks(routes: Mapping[ActionId, Listener]) -> Callable[[dict[str, Any]], bool]:
    """Whether a click's route only acks and hands its reply over (so it may run on the request thread)."""
    done = {str(action_id) for action_id, route in routes.items() if is_done_at_ack(route)}

    def clicked_done_at_ack(body: dict[str, Any]) -> bool:
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        return isinstance(first, dict) and str(first.get("action_id")) in done

    return clicked_done_at_ack


def register(app: App) -> None:
    """Register the one listener of every action_id (build_routes) on `app`."""
    routes = build_routes()
    listener = answer_at_ack(route_actions(routes), at_once=done_at_ack_clicks(routes))
    app.action(action_ids_pattern(routes))(listener)
