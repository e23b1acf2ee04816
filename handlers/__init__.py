"""Slack listeners, thin: ack, parse, call one service, reply. One folder per kind of request."""

from __future__ import annotations

from slack_bolt import App


def register_handlers(app: App) -> None:
    """Register every listener of the bot on `app`."""
    from handlers import actions, commands, home, views

    commands.register(app)
    actions.register(app)
    views.register(app)
    home.register(app)
