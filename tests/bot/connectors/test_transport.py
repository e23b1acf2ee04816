"""ApiSession: bearer tokens, bounded retries (never repeating a create that may have landed), paging."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.connectors import (
    BUSINESS_CENTRAL_SCOPE,
    AuthenticationFailed,
    ConnectionFailed,
    InvalidData,
    RetryPolicy,
    ServerError,
    Throttled,
    Timeout,
    TokenProvider,
)
from bot.connectors.transport import ApiSession
from tests.bot.connectors.scripted import ScriptedApi, TokenEndpoint, json_response, odata_error

URL = "https://api.example.test/v2.0/api/v2.0/companies(1)/customers"


def scripted(*answers: httpx.Response | Exception) -> ScriptedApi:
    queue: Iterator[httpx.Response | Exception] = iter(answers)

    def answer(_request: httpx.Request) -> httpx.Response:
        item = next(queue)
        if isinstance(item, Exception):
            raise item
        return item

    return ScriptedApi(answer)


def session_for(api: ScriptedApi, tokens: TokenProvider, retry: RetryPolicy) -> ApiSession:
    return ApiSession(
        api.client(), system="business_central", tokens=tokens, scope=BUSINESS_CENTRAL_SCOPE, retry=retry
    )


def test_bearer_token_and_default_headers(tokens: TokenProvider, retry: RetryPolicy) -> None:
    api = scripted(json_response(200, {"value": []}))
    session = ApiSession(
        api.client(),
        system="dataverse",
        tokens=tokens,
        scope=BUSINESS_CENTRAL_SCOPE,
        retry=retry,
        headers={"OData-Version": "4.0"},
    )
    session.send("GET", URL)
    assert api.requests[0].headers["Authorization"] == "Bearer token-1"
    assert api.requests[0].headers["OData-Version"] == "4.0"
    assert session.requests_made == 1


def test_429_waits_for_retry_after(tokens: TokenProvider, retry: RetryPolicy, sleeps: list[float]) -> None:
    api = scripted(
        odata_error(429, "0x80072322", "Number of requests exceeded the limit.", {"Retry-After": "3"}),
        json_response(200, {"value": []}),
    )
    session = session_for(api, tokens, retry)
    assert session.send("POST", URL, json={"displayName": "A"}).status_code == 200
    assert sleeps == [3.0]
    assert session.requests_made == 2


def test_429_after_the_last_attempt_is_raised(
    tokens: TokenProvider, retry: RetryPolicy, sleeps: list[float]
) -> None:
    api = scripted(*[httpx.Response(429, headers={"Retry-After": "1"}) for _ in range(3)])
    with pytest.raises(Throttled) as caught:
        session_for(api, tokens, retry).send("GET", URL)
    assert caught.value.retry_after == 1.0
    assert sleeps == [1.0, 1.0]
    assert len(api.requests) == 3


def test_server_errors_back_off_exponentially_then_raise(
    tokens: TokenProvider, retry: RetryPolicy, sleeps: list[float]
) -> None:
    api = scripted(*[odata_error(503, "Internal_ServiceUnavailable", "Try later.") for _ in range(3)])
    with pytest.raises(ServerError) as caught:
        session_for(api, tokens, retry).send("GET", URL)
    assert caught.value.status == 503
    assert caught.value.message == "Try later."
    assert sleeps == [1.0, 2.0]
    assert len(api.requests) == 3


def test_read_timeout_of_a_get_is_retried(tokens: TokenProvider, retry: RetryPolicy) -> None:
    api = scripted(httpx.ReadTimeout("slow"), json_response(200, {}))
    assert session_for(api, tokens, retry).send("GET", URL).status_code == 200
    assert len(api.requests) == 2


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (odata_error(500, "Internal_ServerError", "Boom."), ServerError),
        (httpx.ReadTimeout("slow"), Timeout),
        (httpx.RemoteProtocolError("connection closed"), ConnectionFailed),
    ],
)
def test_a_create_that_may_have_landed_is_not_repeated(
    tokens: TokenProvider,
    retry: RetryPolicy,
    sleeps: list[float],
    failure: httpx.Response | Exception,
    expected: type,
) -> None:
    api = scripted(failure, json_response(201, {"id": "x"}))
    with pytest.raises(expected):
        session_for(api, tokens, retry).send("POST", URL, json={"displayName": "A"})
    assert len(api.requests) == 1
    assert sleeps == []


def test_a_create_that_never_left_is_repeated(tokens: TokenProvider, retry: RetryPolicy) -> None:
    api = scripted(httpx.ConnectError("refused"), json_response(201, {"id": "x"}))
    assert session_for(api, tokens, retry).send("POST", URL, json={}).status_code == 201
    assert len(api.requests) == 2


def test_refused_data_is_not_retried(tokens: TokenProvider, retry: RetryPolicy) -> None:
    api = scripted(odata_error(400, "Application_FieldValidationException", "Name is blank."))
    with pytest.raises(InvalidData):
        session_for(api, tokens, retry).send("PATCH", URL, json={})
    assert len(api.requests) == 1


def test_401_renews_the_token_once(
    tokens: TokenProvider, token_endpoint: TokenEndpoint, retry: RetryPolicy
) -> None:
    api = scripted(httpx.Response(401), json_response(200, {}))
    session_for(api, tokens, retry).send("GET", URL)
    assert [request.headers["Authorization"] for request in api.requests] == [
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert len(token_endpoint.requests) == 2


def test_repeated_401_is_raised(tokens: TokenProvider, retry: RetryPolicy) -> None:
    api = scripted(
        httpx.Response(401), odata_error(401, "Authentication_InvalidCredentials", "The credentials are bad.")
    )
    with pytest.raises(AuthenticationFailed) as caught:
        session_for(api, tokens, retry).send("GET", URL)
    assert caught.value.message == "The credentials are bad."
    assert len(api.requests) == 2


def test_sign_in_refusal_is_raised_without_calling_the_api(retry: RetryPolicy) -> None:
    refusal = json_response(400, {"error": "invalid_grant", "error_description": "AADSTS50055: expired"})
    tokens = TokenProvider(
        "https://login.example.test/t/oauth2/v2.0/token",
        "id",
        "secret",
        transport=httpx.MockTransport(TokenEndpoint(refusal=refusal)),
    )
    api = scripted()
    with pytest.raises(AuthenticationFailed):
        session_for(api, tokens, retry).send("GET", URL)
    assert api.requests == []


def test_unreachable_token_endpoint_is_retried(retry: RetryPolicy, sleeps: list[float]) -> None:
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return json_response(200, {"access_token": "t", "token_type": "Bearer", "expires_in": 3600})

    tokens = TokenProvider(
        "https://login.example.test/t", "id", "secret", transport=httpx.MockTransport(flaky)
    )
    api = scripted(json_response(201, {}))
    session_for(api, tokens, retry).send("POST", URL, json={})
    assert len(calls) == 2
    assert sleeps == [1.0]


def test_pages_follow_next_link_unchanged(tokens: TokenProvider, retry: RetryPolicy) -> None:
    next_link = "https://api.example.test/v2.0/api/v2.0/companies(1)/customers?$skiptoken=abc%27def"
    api = scripted(
        json_response(200, {"value": [{"id": "1"}, {"id": "2"}], "@odata.nextLink": next_link}),
        json_response(200, {"value": [{"id": "3"}]}),
    )
    pages = session_for(api, tokens, retry).iter_pages(
        URL, params={"$filter": "number eq '1 0'"}, headers={"Prefer": "odata.maxpagesize=2"}
    )
    assert [[row["id"] for row in page] for page in pages] == [["1", "2"], ["3"]]
    assert str(api.requests[0].url) == URL + "?$filter=number%20eq%20'1%200'"
    assert str(api.requests[1].url) == next_link
    assert all(request.headers["Prefer"] == "odata.maxpagesize=2" for request in api.requests)
