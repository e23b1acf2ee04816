"""Answers through response_url on kept-alive connections instead of a new connection (and TLS) per reply.

Bolt's respond() builds a slack_sdk WebhookClient per answer, whose urllib opens a connection per request.
PooledRespond sends the same body with the same client (headers, timeout, retry handlers) but the request
goes over a connection kept from the previous answer to that host, on any thread. Behind a proxy, or for a
URL urllib would refuse, the client is slack_sdk's own. A kept connection the server has closed is noticed
before use, or, when the request finds it dead, the request is sent once more on a new connection (what the
old path would have used anyway); any other failure reaches the retry handlers as urllib raises it.
"""

from __future__ import annotations

import io
import os
import select
import threading
from collections.abc import Sequence
from http.client import HTTPConnection, HTTPResponse, HTTPSConnection
from ssl import SSLContext
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

from slack_bolt import Respond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient, WebhookResponse
from slack_sdk.webhook.internal_utils import _debug_log_response

MAX_IDLE_PER_HOST = 4  # kept connections per host: replies sent at a time (bot.replier.REPLY_THREADS)

_Key = tuple[str, str, float, SSLContext | None]  # scheme, host[:port], timeout, TLS context


class _Connections:
    """Idle kept-alive connections per host, taken by one thread at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[_Key, list[HTTPConnection]] = {}

    def take(self, key: _Key) -> HTTPConnection | None:
        """An idle connection to the host that the server has not closed, else None."""
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                connection = idle.pop()
            if not _dropped(connection):
                return connection
            connection.close()

    def give(self, key: _Key, connection: HTTPConnection) -> None:
        """Keep a connection whose last response was read to the end (closed if enough are kept)."""
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < MAX_IDLE_PER_HOST:
                idle.append(connection)
                return
        connection.close()

    def forget(self) -> None:
        """Drop every kept connection without closing it (a forked child must not use its parent's)."""
        self._idle = {}
        self._lock = threading.Lock()


_CONNECTIONS = _Connections()
os.register_at_fork(after_in_child=_CONNECTIONS.forget)


def _dropped(connection: HTTPConnection) -> bool:
    """Whether an idle connection was closed by the server (it is readable with no request pending)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class PooledWebhookClient(WebhookClient):
    """slack_sdk's WebhookClient whose requests reuse a kept-alive connection to the URL's host."""

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        """One attempt (the retry loop is slack_sdk's): urllib's outcome, on a pooled connection."""
        scheme = url[:5].lower()
        if self.proxy is not None or scheme not in ("http:", "https"):
            return super()._perform_http_request_internal(url, req)  # type: ignore[no-any-return]
        key: _Key = (req.type, req.host, float(self.timeout), self.ssl)
        connection = _CONNECTIONS.take(key)
        if connection is not None:
            try:
                return self._exchange(key, connection, url, req)
            except (ConnectionError, URLError) as exc:
                if isinstance(exc, URLError) and not isinstance(exc.reason, ConnectionError):
                    raise
                # The kept connection was dead: send on a new one, as without the pool.
        return self._exchange(key, self._connect(key), url, req)

    def _connect(self, key: _Key) -> HTTPConnection:
        scheme, host, timeout, context = key
        if scheme == "https":
            return HTTPSConnection(host, timeout=timeout, context=context)
        return HTTPConnection(host, timeout=timeout)

    def _exchange(self, key: _Key, connection: HTTPConnection, url: str, req: Request) -> WebhookResponse:
        """Send `req` and read the whole answer; a non-2xx answer raises HTTPError as urllib does."""
        headers = {name.title(): value for name, value in req.header_items()}
        headers.setdefault("Host", req.host)
        try:
            try:
                connection.request(req.get_method(), req.selector, req.data, headers)
            except OSError as err:  # urllib's wrapping: connect and send errors become URLError
                raise URLError(err) from err
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()
            raise
        self._keep_or_close(key, connection, response)
        if not 200 <= response.status < 300:
            raise HTTPError(url, response.status, response.reason, response.headers, io.BytesIO(data))
        charset: str = response.headers.get_content_charset() or "utf-8"
        resp = WebhookResponse(
            url=url,
            status_code=response.status,
            body=data.decode(charset),
            headers=response.headers,  # type: ignore[arg-type]
        )
        _debug_log_response(self.logger, resp)
        return resp

    def _keep_or_close(self, key: _Key, connection: HTTPConnection, response: HTTPResponse) -> None:
        if response.will_close:
            connection.close()
        else:
            _CONNECTIONS.give(key, connection)


class PooledRespond(Respond):
    """Bolt's respond(): the same message and client options, sent through a PooledWebhookClient."""

    def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        """Send one answer to the response_url (ValueError without one, as Bolt's)."""
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        client = PooledWebhookClient(url=self.response_url, proxy=self.proxy, ssl=self.ssl)
        if isinstance(text, dict):
            return client.send_dict(_build_message(**text))
        message = _build_message(
            text=text,
            blocks=blocks,
            attachments=attachments,
            response_type=response_type,
            replace_original=replace_original,
            delete_original=delete_original,
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
            thread_ts=thread_ts,
            metadata=metadata,
        )
        return client.send_dict(message)
