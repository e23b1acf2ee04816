"""A WebClient that shows every Slack message in the terminal (and, with a real token, also sends it)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.web.slack_response import SlackResponse

from bot.blocks import Message
from bot.blocks.terminal import render_rich

Printer = Callable[[str, Text], None]  # (headline, rendered message)

_SHOWN = {"chat.postMessage", "chat.update", "chat.postEphemeral"}


class TerminalSlack(WebClient):
    """Renders chat.postMessage / chat.update as the message would read in Slack; answers like Slack.

    With `forward=True` (a real SLACK_BOT_TOKEN) every call also goes to Slack and Slack's answer is used.
    """

    def __init__(self, printer: Printer, *, forward: bool = False, **client_args: Any) -> None:
        super().__init__(**client_args)
        self._printer = printer
        self._forward = forward
        self._lock = threading.Lock()
        self._ts = itertools.count(1)

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        """Show the message, then answer as Slack would (or as Slack did)."""
        body: dict[str, Any] = dict(kwargs.get("json") or kwargs.get("data") or kwargs.get("params") or {})
        response = super().api_call(api_method, **kwargs) if self._forward else self._answer(api_method, body)
        if api_method in _SHOWN and response.get("ok", False):
            self._show(api_method, body)
        return response

    def _answer(self, api_method: str, body: dict[str, Any]) -> SlackResponse:
        data: dict[str, Any] = {"ok": True}
        if api_method in ("chat.postMessage", "chat.update"):
            with self._lock:
                ts = body.get("ts") or f"{int(time.time())}.{next(self._ts):06d}"
            data.update(channel=body.get("channel"), ts=ts, message={"text": body.get("text", ""), "ts": ts})
        elif api_method in ("conversations.history", "conversations.replies"):
            data.update(messages=[], has_more=False)
        elif api_method == "auth.test":
            data.update(team_id="TDEMO", user_id="UBOT", bot_id="BBOT", user="sync-errors")
        elif api_method == "users.info":
            data.update(user={"id": body.get("user"), "locale": "en-US"})
        return SlackResponse(
            client=self,
            http_verb="POST",
            api_url=f"demo://{api_method}",
            req_args={},
            data=data,
            headers={},
            status_code=200,
        )

    def _show(self, api_method: str, body: dict[str, Any]) -> None:
        blocks = Block.parse_all(body.get("blocks") or [])
        rendered = render_rich(Message(text=str(body.get("text", "")), blocks=blocks))
        if api_method == "chat.update":
            headline = "✎ message edited"
        elif body.get("thread_ts"):
            headline = "↳ reply in the thread"
        else:
            headline = f"💬 new message in {body.get('channel', 'the channel')}"
        self._printer(headline, rendered)
