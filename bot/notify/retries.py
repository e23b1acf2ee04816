"""slack_sdk retry handlers that never repeat a post blindly.

A 5xx, a timeout or a dropped connection after `chat.postMessage` does not say whether Slack stored the
message: repeating the call may post it twice. So posting methods are retried inside the WebClient only on
429 (Slack stores nothing when it rate-limits); after any other failure the outbox looks the post up in the
channel (by its message metadata) before it posts again. Edits and reads are idempotent and keep slack_sdk's
retries.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Web API methods whose repetition creates something new in Slack.
POSTING_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.scheduleMessage",
        "chat.meMessage",
        "files.upload",
        "files.completeUploadExternal",
    }
)


def method_of(request: HttpRequest) -> str:
    """The Web API method a request calls ("chat.postMessage")."""
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class NoBlindRepost(RetryHandler):
    """Wraps a retry handler so that it never repeats a posting method (429s excepted: nothing was stored)."""

    def __init__(self, inner: RetryHandler) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Retry like the wrapped handler, except a post whose fate is unknown."""
        rate_limited = response is not None and response.status_code == 429
        if method_of(request) in POSTING_METHODS and not rate_limited:
            return False
        return self.inner.can_retry(state=state, request=request, response=response, error=error)

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return self.inner._can_retry(state=state, request=request, response=response, error=error)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """Wait as the wrapped handler would."""
        self.inner.prepare_for_next_attempt(state=state, request=request, response=response, error=error)


def safe_retry_handlers() -> list[RetryHandler]:
    """Connection errors retried twice and 5xx once (never for posts), one 429 honouring Retry-After."""
    return [
        NoBlindRepost(ConnectionErrorRetryHandler(max_retry_count=2)),
        RateLimitErrorRetryHandler(max_retry_count=1),
        NoBlindRepost(ServerErrorRetryHandler(max_retry_count=1)),
    ]


def guard_posts(client: WebClient) -> WebClient:
    """Make `client`'s own retry handlers leave posts alone (429 excepted); return the client."""
    client.retry_handlers = [
        handler
        if isinstance(handler, (NoBlindRepost, RateLimitErrorRetryHandler))
        else NoBlindRepost(handler)
        for handler in client.retry_handlers
    ]
    return client
