"""App Home: the overview tab."""

from __future__ import annotations

from slack_bolt import App

from handlers.acking import answer_at_ack
from handlers.home.opened import handle_app_home_opened


def register(app: App) -> None:
    """Register the app_home_opened listener."""
    app.event("app_home_opened")(answer_at_ack(handle_app_home_opened))
