"""Turn refused HTTP answers and network failures into the typed errors of `errors.py`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.connectors.errors import (
    AuthenticationFailed,
    ConcurrencyConflict,
    ConnectionFailed,
    ConnectorError,
    InvalidData,
    NotFound,
    PermissionDenied,
    ServerError,
    Throttled,
    Timeout,
)

SYSTEM_LABELS = {
    "business_central": "Business Central",
    "dataverse": "Dataverse",
    "auth": "The sign-in service",
}

DATAVERSE_PRIVILEGE_DENIED = "0x80040220"
# Dataverse answers 412 both for a stale ETag and for "a record with matching key values already exists".
DATAVERSE_DUPLICATE_RECORD = "0x80040237"
NOT_FOUND_CODES = frozenset({"BadRequest_NotFound", "BadRequest_ResourceNotFound", "Internal_RecordNotFound"})
CONFLICT_CODES = frozenset({"Request_EntityChanged"})

_MISSING_PRIVILEGE = re.compile(r"is missing (prv\w+) privilege")
_FOR_ENTITY = re.compile(r"for entity '(\w+)'")
# Business Central appends "  CorrelationId: <guid>." to every error message.
_CORRELATION_ID = re.compile(r"\s*CorrelationId:\s*[0-9A-Fa-f-]+\.?\s*$")


def json_body(response: httpx.Response) -> dict[str, Any] | None:
    """The response's JSON object, or None when the body is empty or not a JSON object."""
    return parse_json_object(response.content)


def parse_json_object(content: bytes | str) -> dict[str, Any] | None:
    """Parse bytes as a JSON object; None when they are empty, not JSON, or not an object."""
    if not content:
        return None
    try:
        value = json.loads(content)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def strip_correlation_id(message: str) -> str:
    """Drop Business Central's trailing "  CorrelationId: <guid>." from an error message."""
    return _CORRELATION_ID.sub("", message).strip()


def missing_privilege(message: str) -> tuple[str | None, str | None]:
    """The privilege and entity named by a Dataverse "is missing prv… privilege" message."""
    privilege = _MISSING_PRIVILEGE.search(message)
    entity = _FOR_ENTITY.search(message)
    return (privilege.group(1) if privilege else None, entity.group(1) if entity else None)


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header (delta seconds or an HTTP date) into seconds; None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def api_error(body: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """The `error.code` and `error.message` of an OData error body (BC, Dataverse) or an OAuth2 one."""
    if not body:
        return None, None
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message")
        return (str(code) if code not in (None, "") else None, str(message) if message else None)
    if isinstance(error, str):
        description = body.get("error_description")
        return error, str(description) if description else None
    return None, None


def error_from_response(response: httpx.Response, *, system: str) -> ConnectorError:
    """Map a non-2xx answer to its typed error (a 5xx or 408 of a whole request: its outcome is unknown)."""
    error = error_from_answer(
        response.status_code,
        json_body(response),
        response.headers,
        system=system,
        method=response.request.method,
        url=str(response.request.url),
        reason=response.reason_phrase,
    )
    # The service may have committed the request before failing to answer it (e.g. a gateway 504).
    error.answer_lost = response.status_code >= 500 or response.status_code == 408
    return error


def error_from_answer(
    status: int,
    body: dict[str, Any] | None,
    headers: Mapping[str, str],
    *,
    system: str,
    method: str | None,
    url: str | None,
    reason: str = "",
) -> ConnectorError:
    """Map a status, parsed body and headers (a whole answer or one `$batch` part) to its typed error."""
    code, api_message = api_error(body)
    label = SYSTEM_LABELS.get(system, system)
    message = (
        strip_correlation_id(api_message) if api_message else f"{label} answered {status} {reason}".strip()
    )
    common: dict[str, Any] = {
        "message": message,
        "status": status,
        "code": code,
        "system": system,
        "method": method,
        "url": url,
        "body": body,
    }
    privilege, entity = missing_privilege(message)
    if code == DATAVERSE_PRIVILEGE_DENIED or privilege is not None:
        return PermissionDenied(**common, privilege=privilege, entity=entity)
    if status == 401 or (code or "").startswith("Authentication_"):
        return AuthenticationFailed(**common)
    if status == 403 or (code or "").startswith("Authorization_"):
        return PermissionDenied(**common)
    if status == 404 or code in NOT_FOUND_CODES:
        return NotFound(**common)
    if (status == 412 and code != DATAVERSE_DUPLICATE_RECORD) or code in CONFLICT_CODES:
        return ConcurrencyConflict(**common)
    if status == 429:
        return Throttled(**common, retry_after=retry_after_seconds(headers.get("Retry-After")))
    if status == 408:
        return Timeout(**common)
    if status >= 500:
        return ServerError(**common)
    return InvalidData(**common)


def error_from_transport(exc: httpx.TransportError, *, system: str, method: str, url: str) -> ConnectorError:
    """Map an httpx network failure to Timeout or ConnectionFailed."""
    label = SYSTEM_LABELS.get(system, system)
    detail = str(exc) or type(exc).__name__
    lost = not never_reached_server(exc)
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(
            message=f"{label} did not answer in time ({detail}).",
            system=system,
            method=method,
            url=url,
            answer_lost=lost,
        )
    return ConnectionFailed(
        message=f"{label} could not be reached ({detail}).",
        system=system,
        method=method,
        url=url,
        answer_lost=lost,
    )


def never_reached_server(exc: httpx.TransportError) -> bool:
    """True when the request was certainly not sent (so even a create may be repeated)."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
