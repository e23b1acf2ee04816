"""Buttons answered right after the ack: the listener Bolt calls, around a function of the asker and click."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from handlers.request import SlackRequest, slack_request

ButtonHandler = Callable[[Ack, dict[str, Any], dict[str, Any], WebClient, BoltContext], None]
Click = Callable[[SlackRequest, dict[str, Any]], None]


def acked(click: Click) -> ButtonHandler:
    """A listener that acks at once, then runs `click` for the asker (an OperationError becomes an answer)."""

    def listener(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        request = slack_request(context, client, body)
        request.attempt(lambda: click(request, action))

    listener.__name__ = click.__name__
    listener.__doc__ = click.__doc__
    return listener
