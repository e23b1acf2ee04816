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
    MissingReference,
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

# Dataverse names the missing row (code 0x80040217): "Entity 'account' With Id = <guid> Does Not Exist" for
# the row addressed, "transactioncurrency With Id = <guid> Does Not Exist" for a lookup's target; ids tell.
_DATAVERSE_NO_ROW = re.compile(
    r"^\s*(?:Entity\s+')?(?P<table>\w+)'?\s+With Id = (?P<id>[0-9A-Fa-f-]{36}) Does Not Exist", re.IGNORECASE
)
# Business Central: "The field Currency Code of table Customer contains a value (XYZ) that cannot be found
# in the related table (Currency)." and "The Currency does not exist. Identification fields and values: …".
_BC_RELATION = re.compile(
    r"The field (?P<field>.+?) of table (?P<table>.+?) contains a value \((?P<value>.*?)\) that cannot be "
    r"found in the related table \((?P<related>.+?)\)",
    re.IGNORECASE,
)
# Business Central's API pages check code fields themselves: 'The "currencyCode" does not match to a
# Currency.' (Application_DialogException); the value is the one the request sent.
_BC_NO_MATCH = re.compile(r'The "(?P<field>\w+)" does not match to an? (?P<table>[\w ]+?)\.', re.IGNORECASE)
_BC_NO_RECORD = re.compile(
    r"^\s*The (?P<table>.+?) does not exist\. Identification fields and values: (?P<values>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_BC_VALUE = re.compile(r"(?P<name>[\w. ]+?)='(?P<value>[^']*)'")
_URL_TARGET = re.compile(r"/(?P<set>[A-Za-z_]+)(?:\((?P<id>[^)]*)\))?/?(?:\?.*)?$")
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
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


def _url_target_id(url: str | None) -> str | None:
    """The id in the request URL's last segment (`accounts(<guid>)` -> the GUID), lower case, or None."""
    if not url:
        return None
    match = _URL_TARGET.search(url.split("?", 1)[0])
    if match is None or not match.group("id"):
        return None
    guid = _GUID.search(match.group("id"))
    return (guid.group(0) if guid else match.group("id").strip("'")).lower()


def _is_other_record(record_id: str, method: str | None, url: str | None) -> bool:
    """True when the missing record is not the one the request addressed (a create addresses none)."""
    target = _url_target_id(url)
    if target is None:
        return (method or "").upper() == "POST"
    return record_id.strip("{}").lower() != target


def missing_reference(message: str, *, method: str | None, url: str | None) -> dict[str, str | None] | None:
    """What a "does not exist" text names when it is a record the request refers to, not the one it
    addressed: {"table", "record_id", "key", "field"}; None for anything else."""
    relation = _BC_RELATION.search(message)
    if relation is not None:
        return {
            "table": relation.group("related").strip(),
            "record_id": None,
            "key": relation.group("value").strip() or None,
            "field": relation.group("field").strip(),
        }
    no_match = _BC_NO_MATCH.search(message)
    if no_match is not None:
        return {
            "table": no_match.group("table").strip(),
            "record_id": None,
            "key": None,
            "field": no_match.group("field"),
        }
    row = _DATAVERSE_NO_ROW.search(message)
    if row is not None:
        if not _is_other_record(row.group("id"), method, url):
            return None
        return {"table": row.group("table"), "record_id": row.group("id").lower(), "key": None, "field": None}
    record = _BC_NO_RECORD.search(message)
    if record is not None:
        values = {
            m.group("name").strip(): m.group("value") for m in _BC_VALUE.finditer(record.group("values"))
        }
        guid = _GUID.search(values.get("Id", "") or values.get("SystemId", ""))
        record_id = guid.group(0).lower() if guid else None
        key = next((v for name, v in values.items() if name not in ("Id", "SystemId")), None)
        if not _is_other_record(record_id or key or "", method, url):
            return None
        return {"table": record.group("table").strip(), "record_id": record_id, "key": key, "field": None}
    return None


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
    refers = status in (400, 404) or code in NOT_FOUND_CODES
    reference = missing_reference(message, method=method, url=url) if refers else None
    if reference is not None:
        return MissingReference(
            **common,
            table=reference["table"],
            record_id=reference["record_id"],
            key=reference["key"],
            field=reference["field"],
        )
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
