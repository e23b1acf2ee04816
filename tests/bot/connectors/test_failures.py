"""Every refused answer and network failure becomes the right typed error."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from bot.connectors import (
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
from bot.connectors.failures import (
    error_from_response,
    error_from_transport,
    never_reached_server,
    retry_after_seconds,
    strip_correlation_id,
)

PRIVILEGE_MESSAGE = (
    "Principal user (Id=8f6a, type=8, roleCount=1, privilegeCount=300, accessMode='4'), is missing "
    "prvCreateAccount privilege (Id=2b1f) on OTC=1 for entity 'account'. Consider adding missed privilege "
    "to one of the principal (user/team) roles."
)
URL = "https://org.example.test/api/data/v9.2/accounts"


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("POST", URL)
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def error(code: str, message: str) -> dict[str, object]:
    return {"error": {"code": code, "message": message}}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, error("0x80040220", PRIVILEGE_MESSAGE), PermissionDenied),
        (400, error("0x80040220", "no text"), PermissionDenied),
        (403, error("Authorization_Forbidden", "You do not have permission."), PermissionDenied),
        (401, error("0x80072560", "The user is not a member of the organization."), AuthenticationFailed),
        (
            400,
            error("Authentication_InvalidCredentials", "The server has rejected the credentials."),
            AuthenticationFailed,
        ),
        (404, error("0x80040217", "account With Id = 1 Does Not Exist"), NotFound),
        (400, error("BadRequest_NotFound", "The customer does not exist."), NotFound),
        (400, error("Internal_RecordNotFound", "The Customer does not exist."), NotFound),
        (412, error("0x80060882", "The version of the existing record doesn't match."), ConcurrencyConflict),
        (
            409,
            error("Request_EntityChanged", "Another user has already changed the record."),
            ConcurrencyConflict,
        ),
        (412, error("0x80040237", "A record with matching key values already exists."), InvalidData),
        (429, error("0x80072322", "Number of requests exceeded the limit of 6000."), Throttled),
        (500, error("Internal_ServerError", "Something went wrong."), ServerError),
        (503, None, ServerError),
        (408, None, Timeout),
        (400, error("Application_FieldValidationException", "Name must be filled in."), InvalidData),
        (422, None, InvalidData),
    ],
)
def test_status_and_code_choose_the_error_type(status: int, body: object, expected: type) -> None:
    mapped = error_from_response(answer(status, body), system="dataverse")
    assert type(mapped) is expected
    assert mapped.status == status
    assert mapped.system == "dataverse"
    assert mapped.method == "POST"
    assert mapped.url == URL


def test_missing_privilege_names_privilege_and_entity() -> None:
    mapped = error_from_response(answer(403, error("0x80040220", PRIVILEGE_MESSAGE)), system="dataverse")
    assert isinstance(mapped, PermissionDenied)
    assert (mapped.privilege, mapped.entity, mapped.code) == ("prvCreateAccount", "account", "0x80040220")
    assert mapped.message == PRIVILEGE_MESSAGE
    assert mapped.body == error("0x80040220", PRIVILEGE_MESSAGE)


def test_business_central_correlation_id_is_stripped() -> None:
    body = error(
        "Application_FieldValidationException",
        "Currency Code EUR does not exist.  CorrelationId:  2f3e7f6c-0d5b-4f3a-9a4d-1b2c3d4e5f60.",
    )
    mapped = error_from_response(answer(400, body), system="business_central")
    assert mapped.message == "Currency Code EUR does not exist."
    assert mapped.code == "Application_FieldValidationException"


def test_throttled_carries_retry_after_seconds() -> None:
    mapped = error_from_response(answer(429, None, {"Retry-After": "7"}), system="business_central")
    assert isinstance(mapped, Throttled)
    assert mapped.retry_after == 7.0


def test_answer_without_json_gets_a_readable_message() -> None:
    response = httpx.Response(502, text="<html>Bad gateway</html>", request=httpx.Request("GET", URL))
    mapped = error_from_response(response, system="dataverse")
    assert isinstance(mapped, ServerError)
    assert mapped.message == "Dataverse answered 502 Bad Gateway"
    assert mapped.body is None


def test_strip_correlation_id_leaves_other_messages_alone() -> None:
    assert strip_correlation_id("Plain message.") == "Plain message."
    assert strip_correlation_id("A.  CorrelationId: abc-123.") == "A."


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


@pytest.mark.parametrize(
    ("exc", "expected", "unsent"),
    [
        (httpx.ConnectError("refused"), ConnectionFailed, True),
        (httpx.ConnectTimeout("slow connect"), Timeout, True),
        (httpx.PoolTimeout("pool"), Timeout, True),
        (httpx.ReadTimeout("slow read"), Timeout, False),
        (httpx.RemoteProtocolError("closed"), ConnectionFailed, False),
    ],
)
def test_transport_failures(exc: httpx.TransportError, expected: type, unsent: bool) -> None:
    mapped: ConnectorError = error_from_transport(exc, system="business_central", method="GET", url=URL)
    assert type(mapped) is expected
    assert mapped.status is None
    assert mapped.url == URL
    assert never_reached_server(exc) is unsent
