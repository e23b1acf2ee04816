"""TokenProvider: client credentials through authlib, one cached token per scope, typed sign-in refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine

from bot.connectors import (
    BUSINESS_CENTRAL_SCOPE,
    AuthenticationFailed,
    ConnectionFailed,
    ServerError,
    TokenProvider,
    dataverse_scope,
)
from bot.connectors.auth import aadsts_code
from tests.bot.connectors.scripted import (
    CLIENT_ID,
    CLIENT_SECRET,
    DATAVERSE_URL,
    TOKEN_URL,
    TokenEndpoint,
    json_response,
)

EXPIRED_PASSWORD = {
    "error": "invalid_grant",
    "error_description": "AADSTS50055: The password is expired. Trace ID: 0f1e Correlation ID: 9a8b",
    "error_codes": [50055],
    "trace_id": "0f1e",
    "correlation_id": "9a8b",
}


def provider_for(endpoint: TokenEndpoint) -> TokenProvider:
    return TokenProvider(TOKEN_URL, CLIENT_ID, CLIENT_SECRET, transport=httpx.MockTransport(endpoint))


def test_client_credentials_request(tokens: TokenProvider, token_endpoint: TokenEndpoint) -> None:
    assert tokens.access_token(BUSINESS_CENTRAL_SCOPE) == "token-1"
    form = token_endpoint.requests[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_id"] == [CLIENT_ID]
    assert form["client_secret"] == [CLIENT_SECRET]
    assert form["scope"] == ["https://api.businesscentral.dynamics.com/.default"]


def test_token_is_cached_per_scope(tokens: TokenProvider, token_endpoint: TokenEndpoint) -> None:
    dataverse = dataverse_scope(DATAVERSE_URL + "/")
    first = [tokens.access_token(BUSINESS_CENTRAL_SCOPE), tokens.access_token(dataverse)]
    again = [tokens.access_token(BUSINESS_CENTRAL_SCOPE), tokens.access_token(dataverse)]
    assert first == again == ["token-1", "token-2"]
    assert token_endpoint.scopes == [BUSINESS_CENTRAL_SCOPE, "https://org.example.test/.default"]
    assert tokens.requests_made == 2


def test_token_is_refreshed_within_the_leeway_before_expiry(
    tokens: TokenProvider, token_endpoint: TokenEndpoint
) -> None:
    with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False) as traveller:
        assert tokens.access_token(BUSINESS_CENTRAL_SCOPE) == "token-1"
        traveller.shift(timedelta(seconds=3600 - 61))
        assert tokens.access_token(BUSINESS_CENTRAL_SCOPE) == "token-1"
        traveller.shift(timedelta(seconds=2))
        assert tokens.access_token(BUSINESS_CENTRAL_SCOPE) == "token-2"
    assert len(token_endpoint.requests) == 2


def test_invalidate_forces_a_new_token(tokens: TokenProvider) -> None:
    assert tokens.access_token(BUSINESS_CENTRAL_SCOPE) == "token-1"
    tokens.invalidate(BUSINESS_CENTRAL_SCOPE)
    assert tokens.access_token(BUSINESS_CENTRAL_SCOPE) == "token-2"


def test_sign_in_refusal_carries_the_aadsts_code_never_the_secret() -> None:
    provider = provider_for(TokenEndpoint(refusal=json_response(400, EXPIRED_PASSWORD)))
    with pytest.raises(AuthenticationFailed) as caught:
        provider.access_token(BUSINESS_CENTRAL_SCOPE)
    error = caught.value
    assert error.aadsts == "AADSTS50055"
    assert error.code == "invalid_grant"
    assert error.message.startswith("AADSTS50055: The password is expired.")
    assert (error.status, error.system, error.url) == (400, "auth", TOKEN_URL)
    for text in (str(error), repr(error), repr(error.body), repr(provider)):
        assert CLIENT_SECRET not in text


def test_invalid_client_secret_is_an_authentication_failure() -> None:
    body = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}
    provider = provider_for(TokenEndpoint(refusal=json_response(401, body)))
    with pytest.raises(AuthenticationFailed) as caught:
        provider.access_token(BUSINESS_CENTRAL_SCOPE)
    assert caught.value.aadsts == "AADSTS7000215"


def test_aadsts_code_from_codes_or_description() -> None:
    assert aadsts_code({"error_codes": [50126]}) == "AADSTS50126"
    assert aadsts_code({"error_description": "AADSTS700016: Application not found"}) == "AADSTS700016"
    assert aadsts_code({"error": "invalid_request"}) is None
    assert aadsts_code(None) is None


def test_token_endpoint_failure_is_a_server_error() -> None:
    provider = provider_for(TokenEndpoint(refusal=httpx.Response(503, text="unavailable")))
    with pytest.raises(ServerError):
        provider.access_token(BUSINESS_CENTRAL_SCOPE)


def test_unreachable_token_endpoint_is_a_connection_failure() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    provider = TokenProvider(TOKEN_URL, CLIENT_ID, CLIENT_SECRET, transport=httpx.MockTransport(refuse))
    with pytest.raises(ConnectionFailed) as caught:
        provider.access_token(BUSINESS_CENTRAL_SCOPE)
    assert CLIENT_SECRET not in str(caught.value)
