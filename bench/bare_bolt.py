"""The bare Bolt app of bench/ack.py: a `/sync-errors` listener and a button listener that only ack (WSGI).

gunicorn loads `bare_bolt:app` (with this folder on its --pythonpath). Read from the environment:
SLACK_SIGNING_SECRET (requests are verified with it), SLACK_BOT_TOKEN and SLACK_API_URL (the WebClient's
base URL: the loopback Slack stand-in; the token is never checked), and BARE_ACKS: `poll` (Bolt's default:
the listener runs on Bolt's pool and the request thread looks for its ack every 10 ms) or `at-once`
(`process_before_response`: the listener runs on the request thread, which answers as soon as it returns).
"""

from __future__ import annotations

import os
import re

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient


def build_bare_app() -> App:
    """A sync Bolt App, request verification on, our stand-in as its API; an ack-only command and button."""
    api_url = os.environ.get("SLACK_API_URL", "").rstrip("/")
    client = WebClient(
        token=os.environ.get("SLACK_BOT_TOKEN", "xoxb-bench"),
        base_url=(api_url + "/") if api_url else WebClient.BASE_URL,
    )
    bolt = App(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        request_verification_enabled=True,
        token_verification_enabled=False,
        process_before_response=os.environ.get("BARE_ACKS", "poll") == "at-once",
    )

    @bolt.command("/sync-errors")
    def ack_only(ack: Ack) -> None:
        """Acknowledge and do nothing else."""
        ack()

    @bolt.action(re.compile(".*"))
    def ack_click(ack: Ack) -> None:
        """Acknowledge any button and do nothing else (the same click ours is measured with)."""
        ack()

    return bolt


app = SlackRequestHandler(build_bare_app(), path="/slack/events")
