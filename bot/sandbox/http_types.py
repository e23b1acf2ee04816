"""The sandbox's own view of an HTTP exchange, independent of the server class (so `$batch` can reuse it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_plus


@dataclass
class Request:
    """One HTTP request: decoded path, decoded query parameters, lower-cased header names, raw body."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def from_target(cls, method: str, target: str, headers: dict[str, str], body: bytes) -> Request:
        """Build a request from a target like `/a/b?x=1` (path and query decoded)."""
        path, _, query_string = target.partition("?")
        return cls(
            method=method.upper(),
            path=unquote(path),
            query=parse_query(query_string),
            headers={name.lower(): value for name, value in headers.items()},
            body=body,
        )

    def header(self, name: str) -> str | None:
        """Return a header value by case-insensitive name."""
        return self.headers.get(name.lower())

    def json_body(self) -> Any:
        """Parse the body as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    """One HTTP response, with what the latency model charges for it and whether its answer is lost."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    operations: int = 1  # writes (and reads) executed; a `$batch` counts each of its operations
    rows: int = 0  # rows read and returned
    drop_connection: bool = False  # close the socket instead of answering (the answer is lost)

    def header(self, name: str) -> str | None:
        """Return the first header value by case-insensitive name."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def parse_query(query_string: str) -> dict[str, str]:
    """Decode `a=1&b=2` as the real services do: `+` means a space (so send offsets as `%2B` or use `Z`)."""
    query: dict[str, str] = {}
    for part in query_string.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        query[unquote_plus(name)] = unquote_plus(value)
    return query


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    """A JSON response with OData's content type."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    all_headers = [("Content-Type", "application/json; odata.metadata=minimal; charset=utf-8")]
    return Response(status=status, headers=all_headers + (headers or []), body=body)


def empty_response(status: int, headers: list[tuple[str, str]] | None = None) -> Response:
    """A response without a body (204 and friends)."""
    return Response(status=status, headers=headers or [], body=b"")


def html_response(status: int, html: str) -> Response:
    """An HTML page."""
    return Response(status=status, headers=[("Content-Type", "text/html; charset=utf-8")], body=html.encode())
