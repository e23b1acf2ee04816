"""`app_home_opened`: publish the user's Home tab (idempotent, so Slack's retries only publish it again)."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from handlers.home.publish import publish_home
from handlers.request import slack_request


def handle_app_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Publish the Home tab when its user opens it (the Messages tab needs nothing)."""
    if event.get("tab", "home") != "home":
        return
    publish_home(slack_request(context, client, {}, user_id=str(event.get("user") or "")))
