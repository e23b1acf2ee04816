"""One API's HTTP session: bearer token, typed errors, bounded retries, pacing, a request counter, paging."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from bot.connectors.auth import TokenProvider
from bot.connectors.errors import AuthenticationFailed, ConnectorError
from bot.connectors.failures import (
    error_from_response,
    error_from_transport,
    json_body,
    never_reached_server,
    retry_after_seconds,
)
from bot.connectors.models import SystemName
from bot.connectors.odata import with_query
from bot.connectors.pacing import Pacer, PacingLimits, Ticket
from bot.connectors.retry import RetryPolicy


class ApiSession:
    """Sends requests to one API; answers 2xx or raises the typed ConnectorError after bounded retries.

    Thread-safe: every request passes the session's Pacer (concurrency, Retry-After, 5-minute budget).
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        system: SystemName,
        tokens: TokenProvider,
        scope: str,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        pacing: PacingLimits | Pacer | None = None,
    ) -> None:
        self.http = http
        self.system: SystemName = system
        self.tokens = tokens
        self.scope = scope
        self.retry = retry or RetryPolicy()
        self.headers = dict(headers or {})
        self.pacer = pacing if isinstance(pacing, Pacer) else Pacer(pacing or PacingLimits(max_concurrency=1))
        self._count_lock = threading.Lock()
        self._requests_made = 0

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far (retries included, token requests not)."""
        with self._count_lock:
            return self._requests_made

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        cost: int = 1,
    ) -> httpx.Response:
        """Send one request (retrying per the policy) and return the 2xx response.

        `idempotent` defaults to False for POST: such a request is repeated only when it certainly never
        reached the server (connection refused) or the server refused it unprocessed (429). `cost` is the
        number of operations the request carries (a `$batch`'s size), for the pacer's latency per operation.
        """
        full_url = with_query(url, params or {})
        repeatable = method.upper() != "POST" if idempotent is None else idempotent
        token_renewed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send_once(
                    method, full_url, json=json, content=content, headers=headers, cost=cost
                )
            except _NotSent as failure:
                error, may_repeat = failure.error, True
            except httpx.TransportError as exc:
                error = error_from_transport(exc, system=self.system, method=method, url=full_url)
                may_repeat = repeatable or never_reached_server(exc)
            else:
                if response.is_success:
                    return response
                error = error_from_response(response, system=self.system)
                may_repeat = repeatable
                if isinstance(error, AuthenticationFailed) and not token_renewed:
                    # A 401 usually means the cached token was revoked or expired early: renew it once.
                    self.tokens.invalidate(self.scope)
                    token_renewed = True
                    attempt -= 1
                    continue
            delay = self.retry.delay_before_retry(error, attempt=attempt, may_repeat=may_repeat)
            if delay is None:
                raise error
            self.retry.sleep(delay)

    def get_json(self, url: str, *, params: Mapping[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
        """GET a JSON object."""
        return json_body(self.send("GET", url, params=params, **kwargs)) or {}

    def iter_pages(
        self, url: str, *, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the non-empty `value` pages of a collection, following `@odata.nextLink` unchanged."""
        next_url: str | None = with_query(url, params or {})
        while next_url:
            payload = json_body(self.send("GET", next_url, headers=headers)) or {}
            rows = payload.get("value") or []
            if rows:
                yield rows
            link = payload.get("@odata.nextLink")
            next_url = str(link) if link else None

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        cost: int,
    ) -> httpx.Response:
        try:
            token = self.tokens.access_token(self.scope)
        except AuthenticationFailed:
            raise
        except ConnectorError as error:
            raise _NotSent(error) from None
        request_headers = {**self.headers, **(headers or {}), "Authorization": f"Bearer {token}"}
        kind = "batch" if url.endswith("/$batch") else method
        with self.pacer.slot(cost=cost, kind=kind) as ticket:
            with self._count_lock:
                self._requests_made += 1
            return self._paced(ticket, method, url, json=json, content=content, headers=request_headers)

    def _paced(
        self,
        ticket: Ticket,
        method: str,
        url: str,
        *,
        json: Any,
        content: bytes | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        try:
            response = self.http.request(method, url, json=json, content=content, headers=headers)
        except httpx.TimeoutException:
            ticket.timeout()
            raise
        if response.status_code == 429:
            ticket.throttled(retry_after_seconds(response.headers.get("Retry-After")))
        return response


class _NotSent(Exception):
    """The API request was not sent because getting its token failed in a retryable way."""

    def __init__(self, error: ConnectorError) -> None:
        super().__init__(error.message)
        self.error = error
