"""App Home: the overview tab."""

from __future__ import annotations

from slack_bolt import App

from handlers.home.opened import handle_app_home_opened


def register(app: App) -> None:
    """Register the app_home_opened listener."""
    app.event("app_home_opened")(handle_app_home_opened)
