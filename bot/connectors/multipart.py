"""OData multipart/mixed `$batch` bodies (Dataverse): encode requests, decode the responses."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

CRLF = "\r\n"


@dataclass(frozen=True, slots=True)
class PartRequest:
    """One HTTP request inside a multipart `$batch`."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PartResponse:
    """One HTTP response out of a multipart `$batch` answer."""

    status: int
    reason: str
    headers: httpx.Headers
    content: bytes
    content_id: str | None = None


def new_boundary() -> str:
    """A fresh `batch_<uuid>` boundary."""
    return f"batch_{uuid.uuid4()}"


def encode_batch(requests: list[PartRequest], boundary: str) -> bytes:
    """The multipart/mixed body of a `$batch` of independent requests (no change set), CRLF line ends.

    Parts carry no Content-ID: outside a change set Dataverse answers in request order.
    """
    lines: list[str] = []
    for request in requests:
        lines += [
            f"--{boundary}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "",
            f"{request.method} {request.url} HTTP/1.1",
        ]
        body = b"" if request.body is None else json.dumps(request.body, separators=(",", ":")).encode()
        headers = dict(request.headers)
        if request.body is not None:
            headers.setdefault("Content-Type", "application/json; type=entry")
            headers["Content-Length"] = str(len(body))
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += ["", body.decode()]
    lines += [f"--{boundary}--", ""]
    return CRLF.join(lines).encode()


def decode_batch(content_type: str, content: bytes) -> list[PartResponse]:
    """The responses of a multipart/mixed `$batch` answer in order, change sets flattened.

    A plain byte splitter, not the `email` package: a 1,000-part answer is decoded in milliseconds.
    """
    boundary = _boundary(content_type)
    return _decode_parts(content, boundary) if boundary else []


def _boundary(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "boundary":
            return value.strip().strip('"') or None
    return None


def _decode_parts(content: bytes, boundary: str) -> list[PartResponse]:
    responses: list[PartResponse] = []
    delimiter = b"--" + boundary.encode()
    for segment in content.split(delimiter)[1:]:
        if segment.startswith(b"--"):
            break  # the close delimiter
        head, body = _split_head(_without_line_break(segment))
        headers = _headers(head)
        content_type = headers.get("content-type", "")
        if content_type.lower().startswith("multipart/"):
            inner = _boundary(content_type)
            if inner:
                responses += _decode_parts(body, inner)
            continue
        if body.strip():
            responses.append(decode_http_response(body, content_id=headers.get("content-id")))
    return responses


def decode_http_response(raw: bytes, *, content_id: str | None = None) -> PartResponse:
    """Parse one `application/http` part: status line, headers, body."""
    text = raw.lstrip(b"\r\n")
    status_line, _, rest = text.partition(b"\n")
    head, body = _split_head(rest)
    _version, _, status_and_reason = status_line.decode("latin-1").strip().partition(" ")
    status, _, reason = status_and_reason.partition(" ")
    return PartResponse(
        status=int(status),
        reason=reason,
        headers=httpx.Headers(_header_pairs(head)),
        content=body.rstrip(b"\r\n"),
        content_id=str(content_id) if content_id is not None else None,
    )


def _without_line_break(segment: bytes) -> bytes:
    if segment.startswith(b"\r\n"):
        return segment[2:]
    return segment[1:] if segment.startswith(b"\n") else segment


def _header_pairs(head: bytes) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for line in head.decode("latin-1").splitlines():
        if line[:1] in (" ", "\t") and pairs:  # a folded header line continues the previous one
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip()}")
            continue
        name, found, value = line.partition(":")
        if found and name.strip():
            pairs.append((name.strip(), value.strip()))
    return pairs


def _headers(head: bytes) -> dict[str, str]:
    return {name.lower(): value for name, value in _header_pairs(head)}


def _split_head(rest: bytes) -> tuple[bytes, bytes]:
    crlf, lf = rest.find(b"\r\n\r\n"), rest.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return rest[:crlf], rest[crlf + 4 :]
    if lf >= 0:
        return rest[:lf], rest[lf + 2 :]
    return rest, b""
