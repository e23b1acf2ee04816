"""A refusal by one of the stand-in services, and the three error shapes it is rendered in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from bot.sandbox.http_types import Response, json_response


class ApiError(Exception):
    """Raised anywhere inside the sandbox to answer with an error status, code and message."""

    def __init__(
        self, status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []


def business_central_error(error: ApiError) -> Response:
    """Business Central's shape: the message ends with the request's correlation id."""
    message = f"{error.message}  CorrelationId: {uuid.uuid4()}."
    return json_response(error.status, {"error": {"code": error.code, "message": message}}, error.headers)


def business_central_error_body(error: ApiError) -> dict[str, Any]:
    """The JSON body of Business Central's error shape (used inside `$batch` responses)."""
    message = f"{error.message}  CorrelationId: {uuid.uuid4()}."
    return {"error": {"code": error.code, "message": message}}


def dataverse_error(error: ApiError) -> Response:
    """Dataverse's shape: `{"error": {"code": "0x8004…", "message": …}}`."""
    return json_response(error.status, dataverse_error_body(error), error.headers)


def dataverse_error_body(error: ApiError) -> dict[str, Any]:
    """The JSON body of Dataverse's error shape."""
    return {"error": {"code": error.code, "message": error.message}}


def entra_error(status: int, error: str, aadsts: int, description: str) -> Response:
    """Microsoft Entra's token-endpoint error shape, trace and correlation ids included."""
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    timestamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    text = (
        f"AADSTS{aadsts}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id} "
        f"Timestamp: {timestamp}"
    )
    payload = {
        "error": error,
        "error_description": text,
        "error_codes": [aadsts],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={aadsts}",
    }
    return json_response(status, payload)
