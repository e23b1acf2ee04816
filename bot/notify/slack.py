"""Slack calls of the delivery loop: paced, tagged posts, edits, and the look-up of unconfirmed posts.

The WebClient is built elsewhere; the gateway makes its retry handlers leave posts alone (bot.notify.retries):
a 429 is retried inside the call (Slack stored nothing), a 429 that survives it comes here as `RateLimited`,
which requeues the row with a due time. A post that failed any other way (5xx, timeout, dropped connection)
may have been stored: it is looked up in the channel by its message metadata before it is ever posted again.
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.notify.pacing import ChannelPacer
from bot.notify.render import Message
from bot.notify.retries import guard_posts
from storage.outbox import Claim

log = logging.getLogger(__name__)

EVENT_TYPE = "sync_error_notification"
LOOKBACK = timedelta(minutes=2)  # Slack's clock and ours may differ a little
LOOKUP_PAGES = 20

# Errors that will not go away by retrying the same request; these stop the round because every other
# row would fail the same way.
WORKSPACE_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "team_access_not_granted",
        "message_limit_exceeded",  # free workspaces: Slack refuses more messages for now
    }
)
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class DeliveryProblem(Exception):
    """A Slack call did not do what the row needs."""


class Deferred(DeliveryProblem):
    """Not now: the channel is paced or rate-limited until `until`."""

    def __init__(self, until: datetime, reason: str | None = None) -> None:
        super().__init__(reason or f"deferred until {until.isoformat()}")
        self.until = until
        self.reason = reason


class RateLimited(Deferred):
    """Slack answered 429; the channel is held until Retry-After has passed."""


class Transient(DeliveryProblem):
    """5xx, a timeout or a broken connection: retry later with backoff (a post may have gone through)."""


class Unconfirmed(Transient):
    """The post failed, and the look-up right after it did not find it: post again soon (after a look-up)."""


class Permanent(DeliveryProblem):
    """Slack refused the request for good (channel_not_found, invalid_auth, ...)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error
        self.workspace_wide = error in WORKSPACE_ERRORS


@dataclass(frozen=True)
class Post:
    """One chat.postMessage the loop wants to make, tagged with the row (and step) it belongs to."""

    channel: str
    message: Message
    notification_id: int
    step: int = 0
    thread_ts: str | None = None

    def metadata(self) -> dict[str, Any]:
        """Message metadata that lets a later look-up recognise this post."""
        payload: dict[str, Any] = {"notification_id": self.notification_id}
        if self.step:
            payload["step"] = self.step
        return {"event_type": EVENT_TYPE, "event_payload": payload}

    def matches(self, message: dict[str, Any]) -> bool:
        """True if a message from conversations.history/replies is this post."""
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        return (
            metadata.get("event_type") == EVENT_TYPE
            and payload.get("notification_id") == self.notification_id
            and int(payload.get("step", 0)) == self.step
        )


class SlackGateway:
    """Posts and edits through a WebClient, paced per channel, with failures turned into typed exceptions."""

    def __init__(self, client: WebClient, *, pacer: ChannelPacer, clock: Callable[[], datetime]) -> None:
        self._client = guard_posts(client)
        self._pacer = pacer
        self._clock = clock
        self._failure_streak = 0  # deliveries failed by Slack (5xx, connection) in a row; 0 after any success

    def post(self, post: Post, claim: Claim) -> tuple[str, bool]:
        """Post (or, for a recovering claim, find the earlier post); return (ts, found_earlier)."""
        now = self._clock()
        wait = self._pacer.wait_until(post.channel, now)
        if wait is not None:
            raise Deferred(wait)
        if claim.recovering:
            found = self.find_posted(post, since=claim.since)
            claim.recovering = False
            if found is not None:
                log.info(
                    "notification %s step %s was already posted (ts %s)",
                    post.notification_id,
                    post.step,
                    found,
                )
                return found, True
        self._pacer.posting(post.channel, now)
        try:
            response = self._call(
                post.channel,
                self._client.chat_postMessage,
                channel=post.channel,
                text=post.message.text,
                blocks=list(post.message.blocks),
                thread_ts=post.thread_ts,
                metadata=post.metadata(),
                unfurl_links=False,
                unfurl_media=False,
            )
        except Transient as problem:
            claim.recovering = True
            return self._confirm(post, claim, problem), True
        return str(response["ts"]), False

    def _confirm(self, post: Post, claim: Claim, problem: Transient) -> str:
        """After a failed post, look it up at once: its ts if Slack stored it, else Unconfirmed."""
        found = self.find_posted(post, since=claim.since)  # a failing look-up raises Transient itself
        if found is None:
            raise Unconfirmed(f"{problem} (not in the channel)") from problem
        claim.recovering = False
        log.info("notification %s step %s was stored despite %s", post.notification_id, post.step, problem)
        return found

    def update(self, channel: str, ts: str, message: Message) -> None:
        """Edit a posted message in place (chat.update is not paced per channel)."""
        update = self._client.chat_update
        self._call(channel, update, channel=channel, ts=ts, text=message.text, blocks=list(message.blocks))

    def find_posted(self, post: Post, *, since: datetime) -> str | None:
        """Look for `post` in the channel (or its thread) since `since`; return its ts if Slack has it."""
        oldest = f"{(since - LOOKBACK).timestamp():.6f}"
        for message in self._scan(post, oldest):
            if post.matches(message):
                return str(message["ts"])
        return None

    def _scan(self, post: Post, oldest: str) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            args: dict[str, Any] = {
                "channel": post.channel,
                "oldest": oldest,
                "include_all_metadata": True,
                "limit": 200,
                "cursor": cursor,
            }
            if post.thread_ts is None:
                response = self._call(post.channel, self._client.conversations_history, **args)
            else:
                replies = self._client.conversations_replies
                response = self._call(post.channel, replies, ts=post.thread_ts, **args)
            yield from response.get("messages") or []
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                return

    def _call(self, channel: str, method: Callable[..., Any], /, **kwargs: Any) -> Any:
        try:
            response = method(**kwargs)
        except SlackApiError as error:
            raise self._classify(channel, error) from error
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, ConnectionError) as error:
            raise Transient(f"connection: {error}") from error
        self._failure_streak = 0
        return response

    def failed(self) -> int:
        """Note a delivery that Slack failed (5xx, connection); return how many failed in a row."""
        self._failure_streak += 1
        return self._failure_streak

    def _classify(self, channel: str, error: SlackApiError) -> DeliveryProblem:
        status = error.response.status_code
        if status == 429:
            until = self._clock() + timedelta(seconds=_retry_after(error.response.headers))
            self._pacer.hold(channel, until)
            return RateLimited(until, "ratelimited")
        if status >= 500:
            return Transient(f"http {status}")
        name = str(error.response.get("error") or f"http {status}")
        if name in TRANSIENT_ERRORS:
            return Transient(name)
        return Permanent(name)


def _retry_after(headers: dict[str, Any]) -> int:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0, int(raw))
            except (TypeError, ValueError):
                break
    return 1
