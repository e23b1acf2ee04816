"""The multipart/mixed format of Dataverse's `$batch`: splitting parts, reading and writing embedded HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus

from bot.sandbox.http_types import Response

_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.IGNORECASE)


class MultipartError(ValueError):
    """The body is not the multipart document its Content-Type announces."""


@dataclass
class Part:
    """One body part: its headers (lower-cased names) and raw content."""

    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        """The part's Content-Type ("" when absent)."""
        return self.headers.get("content-type", "")


@dataclass
class EmbeddedRequest:
    """An `application/http` request inside a batch."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_id: str | None = None


def boundary_of(content_type: str | None) -> str | None:
    """The boundary parameter of a multipart Content-Type, or None."""
    if not content_type or not content_type.lower().startswith("multipart/mixed"):
        return None
    match = _BOUNDARY.search(content_type)
    return match.group(1).strip() if match else None


def _split_head(data: bytes) -> tuple[list[str], bytes]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        index = data.find(separator)
        if index >= 0:
            head, body = data[:index], data[index + len(separator) :]
            return head.decode("utf-8", "replace").splitlines(), body
    return data.decode("utf-8", "replace").splitlines(), b""


def _headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


def split_parts(body: bytes, boundary: str) -> list[Part]:
    """The parts between `--boundary` delimiters, up to the closing `--boundary--`."""
    delimiter = b"--" + boundary.encode()
    segments = body.split(delimiter)
    if len(segments) < 2 or not any(segment.startswith(b"--") for segment in segments[1:]):
        raise MultipartError(f"The multipart body has no closing delimiter for boundary '{boundary}'.")
    parts: list[Part] = []
    for segment in segments[1:]:
        if segment.startswith(b"--"):
            break
        segment = segment.lstrip(b" \t")
        segment = segment[2:] if segment.startswith(b"\r\n") else segment.removeprefix(b"\n")
        segment = segment[:-2] if segment.endswith(b"\r\n") else segment.removesuffix(b"\n")
        if segment.startswith((b"\r\n", b"\n")):
            parts.append(Part({}, segment.lstrip(b"\r\n")))
            continue
        lines, content = _split_head(segment)
        parts.append(Part(_headers(lines), content))
    return parts


def read_request(part: Part) -> EmbeddedRequest:
    """Parse the `application/http` content of a part into a request."""
    lines, body = _split_head(part.body)
    if not lines or len(lines[0].split()) < 2:
        raise MultipartError("A batch part does not contain an HTTP request line.")
    method, target = lines[0].split()[:2]
    return EmbeddedRequest(
        method=method.upper(),
        target=target,
        headers=_headers(lines[1:]),
        body=body.rstrip(b"\r\n"),
        content_id=part.headers.get("content-id"),
    )


def write_response(response: Response, content_id: str | None) -> bytes:
    """An `application/http` part holding this response."""
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        head.append(f"Content-ID: {content_id}")
    status_line = f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}"
    inner = [status_line, "OData-Version: 4.0"] + [f"{name}: {value}" for name, value in response.headers]
    return (
        ("\r\n".join(head) + "\r\n\r\n" + "\r\n".join(inner) + "\r\n\r\n").encode() + response.body + b"\r\n"
    )


def write_multipart(boundary: str, parts: list[bytes]) -> bytes:
    """A multipart document from parts that already carry their own headers."""
    chunks = [f"--{boundary}\r\n".encode() + part for part in parts]
    return b"".join(chunks) + f"--{boundary}--\r\n".encode()
