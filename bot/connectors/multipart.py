"""OData multipart/mixed `$batch` bodies (Dataverse): encode requests, decode the responses."""

from __future__ import annotations

import email.policy
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from typing import Any, cast

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
    """The responses of a multipart/mixed `$batch` answer in order, change sets flattened."""
    envelope = f"Content-Type: {content_type}{CRLF}{CRLF}".encode() + content
    message = BytesParser(policy=email.policy.HTTP).parsebytes(envelope)
    return _decode_parts(message)


def _decode_parts(message: EmailMessage) -> list[PartResponse]:
    responses: list[PartResponse] = []
    if not message.is_multipart():
        return responses
    for part in message.iter_parts():
        if part.is_multipart():
            responses += _decode_parts(cast(EmailMessage, part))
            continue
        raw = part.get_payload(decode=True)
        if isinstance(raw, bytes) and raw.strip():
            responses.append(decode_http_response(raw, content_id=part.get("Content-ID")))
    return responses


def decode_http_response(raw: bytes, *, content_id: str | None = None) -> PartResponse:
    """Parse one `application/http` part: status line, headers, body."""
    text = raw.lstrip(b"\r\n")
    status_line, _, rest = text.partition(b"\n")
    head, body = _split_head(rest)
    _version, _, status_and_reason = status_line.decode("latin-1").strip().partition(" ")
    status, _, reason = status_and_reason.partition(" ")
    header_message = BytesHeaderParser(policy=email.policy.HTTP).parsebytes(head + b"\r\n\r\n")
    headers = httpx.Headers([(name, str(value)) for name, value in header_message.items()])
    return PartResponse(
        status=int(status),
        reason=reason,
        headers=headers,
        content=body.rstrip(b"\r\n"),
        content_id=str(content_id) if content_id is not None else None,
    )


def _split_head(rest: bytes) -> tuple[bytes, bytes]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = rest.partition(separator)
        if found:
            return head, body
    return rest, b""
