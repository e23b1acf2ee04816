"""BusinessCentralClient over a scripted API: URLs, queries, headers, records, JSON `$batch`, links."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from bot.connectors import (
    BatchOperation,
    BusinessCentralClient,
    ConcurrencyConflict,
    InvalidData,
    KeyedBusinessApp,
    RetryPolicy,
    ServerError,
    TokenProvider,
)
from bot.connectors.pacing import ONE_AT_A_TIME
from tests.bot.connectors.scripted import BC_API_URL, ScriptedApi, json_response, odata_error

COMPANY = "c0000000-0000-0000-0000-000000000001"
COMPANIES = {
    "value": [
        {"@odata.etag": 'W/"1"', "id": COMPANY, "name": "CRONUS International Ltd.", "displayName": "CRONUS"},
        {"id": "c0000000-0000-0000-0000-000000000002", "name": "Other"},
    ]
}
CUSTOMER = {
    "@odata.etag": 'W/"JzE5OzEn"',
    "id": "d0000000-0000-0000-0000-000000000001",
    "number": "10000",
    "displayName": "Adatum Corporation",
    "lastModifiedDateTime": "2026-01-02T03:04:05.678Z",
}


def bc_answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/companies"):
        return json_response(200, COMPANIES)
    if path.endswith("/$batch"):
        return batch_answer(json.loads(request.content))
    if request.method == "POST":
        return json_response(201, {**CUSTOMER, **json.loads(request.content)})
    if request.method == "DELETE":
        return httpx.Response(204)
    if request.method == "PATCH" and request.headers["If-Match"] != "*":
        return odata_error(409, "Request_EntityChanged", "Another user has already changed the record.")
    if path.endswith(")"):
        return json_response(200, CUSTOMER)
    return json_response(200, {"value": [CUSTOMER]})


def batch_answer(payload: dict[str, list[dict[str, object]]]) -> httpx.Response:
    responses = []
    for request in payload["requests"]:
        body = request.get("body")
        if isinstance(body, dict) and body.get("displayName") == "":
            error = {
                "code": "Application_FieldValidationException",
                "message": "Name is blank.  CorrelationId: 1f.",
            }
            responses.append({"id": request["id"], "status": 400, "headers": {}, "body": {"error": error}})
        elif request["method"] == "DELETE":
            responses.append({"id": request["id"], "status": 204, "headers": {}})
        else:
            row = {**CUSTOMER, **(body if isinstance(body, dict) else {})}
            responses.append({"id": request["id"], "status": 201, "headers": {}, "body": row})
    return json_response(200, {"responses": list(reversed(responses))})


@pytest.fixture
def api() -> ScriptedApi:
    return ScriptedApi(bc_answer)


@pytest.fixture
def client(api: ScriptedApi, tokens: TokenProvider, retry: RetryPolicy) -> BusinessCentralClient:
    return BusinessCentralClient(api.client(), api_url=BC_API_URL + "/", tokens=tokens, retry=retry)


def test_is_a_record_store(client: BusinessCentralClient) -> None:
    store: KeyedBusinessApp = client
    assert store.system == "business_central"
    assert client.BATCH_LIMIT == 100


def test_first_company_is_used_and_looked_up_once(client: BusinessCentralClient, api: ScriptedApi) -> None:
    client.get("customers", CUSTOMER["id"])
    client.get("customers", CUSTOMER["id"])
    assert client.company_id == COMPANY
    assert client.company_name() == "CRONUS International Ltd."
    paths = [request.url.path for request in api.requests]
    assert paths.count("/v2.0/tenant-1/Production/api/v2.0/companies") == 1
    assert paths[1] == f"/v2.0/tenant-1/Production/api/v2.0/companies({COMPANY})/customers({CUSTOMER['id']})"
    assert client.requests_made == 3


def test_configured_company_needs_no_lookup(api: ScriptedApi, tokens: TokenProvider) -> None:
    client = BusinessCentralClient(api.client(), api_url=BC_API_URL, tokens=tokens, company_id="abc")
    client.get("items", "i1")
    assert [request.url.path for request in api.requests] == [
        "/v2.0/tenant-1/Production/api/v2.0/companies(abc)/items(i1)"
    ]


def test_iter_changed_query(client: BusinessCentralClient, api: ScriptedApi) -> None:
    since = datetime(2026, 1, 1, 8, 30, 0, 123456, tzinfo=UTC)
    pages = list(client.iter_changed("customers", since=since, select=["number", "id"], page_size=500))
    request = api.requests[-1]
    assert request.url.query.decode() == (
        "$filter=lastModifiedDateTime%20gt%202026-01-01T08:30:00.123Z&$select=id,lastModifiedDateTime,number"
    )
    assert request.headers["Prefer"] == "odata.maxpagesize=500"
    record = pages[0][0]
    assert record.id == CUSTOMER["id"]
    assert record.etag == 'W/"JzE5OzEn"'
    assert record.modified_at == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert record.modified_by is None
    assert "@odata.etag" not in record.fields and record.fields["number"] == "10000"


def test_everything_without_since(client: BusinessCentralClient, api: ScriptedApi) -> None:
    list(client.iter_changed("customers"))
    assert api.requests[-1].url.query == b""
    assert "Prefer" not in api.requests[-1].headers


def test_find_by_key(client: BusinessCentralClient, api: ScriptedApi) -> None:
    found = client.find("customers", "number", "O'Brien 1")
    assert [record.id for record in found] == [CUSTOMER["id"]]
    assert api.requests[-1].url.query.decode() == "$filter=number%20eq%20'O''Brien%201'"


def test_writes(client: BusinessCentralClient, api: ScriptedApi) -> None:
    created = client.create("customers", {"displayName": "New"})
    assert created.fields["displayName"] == "New"
    assert "If-Match" not in api.requests[-1].headers
    client.update("customers", "x", {"displayName": "B"})
    assert api.requests[-1].headers["If-Match"] == "*"
    assert api.requests[-1].method == "PATCH"
    with pytest.raises(ConcurrencyConflict) as caught:
        client.update("customers", "x", {"displayName": "B"}, etag='W/"old"')
    assert caught.value.message == "Another user has already changed the record."
    client.delete("customers", "x", etag='W/"2"')
    assert (api.requests[-1].method, api.requests[-1].headers["If-Match"]) == ("DELETE", 'W/"2"')


def test_batch_encodes_independent_requests(client: BusinessCentralClient, api: ScriptedApi) -> None:
    results = client.batch(
        [
            BatchOperation("POST", "customers", ref="a", body={"displayName": "A"}),
            BatchOperation("PATCH", "customers", ref="b", id="b1", body={"displayName": ""}, etag='W/"5"'),
            BatchOperation("DELETE", "customers", ref="c", id="c1"),
        ]
    )
    batch_request = api.requests[-1]
    assert batch_request.url.path.endswith("/api/v2.0/$batch")
    assert "Isolation" not in batch_request.headers
    sent = api.body()["requests"]
    assert sent[0] == {
        "method": "POST",
        "id": "0",
        "url": f"companies({COMPANY})/customers",
        "headers": {"Content-Type": "application/json"},
        "body": {"displayName": "A"},
    }
    assert sent[1]["url"] == f"companies({COMPANY})/customers(b1)"
    assert sent[1]["headers"]["If-Match"] == 'W/"5"'
    assert sent[2] == {
        "method": "DELETE",
        "id": "2",
        "url": f"companies({COMPANY})/customers(c1)",
        "headers": {"If-Match": "*"},
    }
    assert [(result.ref, result.status, result.ok) for result in results] == [
        ("a", 201, True),
        ("b", 400, False),
        ("c", 204, True),
    ]
    assert results[0].record is not None and results[0].record.fields["displayName"] == "A"
    assert isinstance(results[1].error, InvalidData)
    assert results[1].error.message == "Name is blank."
    assert results[2].record is None


def test_batch_is_split_into_even_sub_batches_of_at_most_100(
    client: BusinessCentralClient, api: ScriptedApi
) -> None:
    operations = [
        BatchOperation("PATCH", "customers", ref=str(n), id=str(n), body={"n": n}) for n in range(250)
    ]
    results = client.batch(operations)
    assert [result.ref for result in results] == [str(n) for n in range(250)]
    batches = [request for request in api.requests if request.url.path.endswith("$batch")]
    # Three batches' worth over the 4 in flight: 4 requests of about 63.
    assert sorted(len(json.loads(request.content)["requests"]) for request in batches) == [61, 63, 63, 63]


def test_one_at_a_time_the_batch_is_split_at_100(tokens: TokenProvider) -> None:
    api = ScriptedApi(bc_answer)
    client = BusinessCentralClient(
        api.client(), api_url=BC_API_URL, tokens=tokens, company_id="abc", pacing=ONE_AT_A_TIME
    )
    operations = [
        BatchOperation("PATCH", "customers", ref=str(n), id=str(n), body={"n": n}) for n in range(250)
    ]
    client.batch(operations)
    batches = [request for request in api.requests if request.url.path.endswith("$batch")]
    assert [len(json.loads(request.content)["requests"]) for request in batches] == [100, 100, 50]


def test_failed_batch_request_fails_its_chunk_and_the_rest(
    tokens: TokenProvider, sleeps: list[float]
) -> None:
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("$batch"):
            calls.append(1)
            if len(calls) > 1:
                return odata_error(500, "Internal_ServerError", "Boom.")
        return bc_answer(request)

    client = BusinessCentralClient(
        ScriptedApi(flaky).client(),
        api_url=BC_API_URL,
        tokens=tokens,
        retry=RetryPolicy(max_attempts=2, sleep=sleeps.append),
        pacing=ONE_AT_A_TIME,
    )
    operations = [BatchOperation("POST", "customers", ref=str(n), body={"n": n}) for n in range(250)]
    results = client.batch(operations)
    assert len(results) == 250
    assert all(result.ok for result in results[:100])
    assert all(isinstance(result.error, ServerError) for result in results[100:])
    assert {result.outcome for result in results[100:200]} == {"unknown"}  # sent; a 500 may follow a commit
    assert {result.outcome for result in results[200:]} == {"refused"}  # never sent
    assert len(calls) == 2  # a chunk of creates that may have landed is not sent again
    assert sleeps == []


def test_record_url_uses_the_company_name_and_derived_web_url(client: BusinessCentralClient) -> None:
    record = client.get("customers", CUSTOMER["id"])
    assert client.record_url("customers", record) == (
        "https://businesscentral.dynamics.com/tenant-1/Production/?company=CRONUS%20International%20Ltd."
        "&page=21&filter=%27No.%27%20IS%20%2710000%27"
    )
    assert client.record_url("currencies", key="EUR") is not None
    assert client.record_url("customers", record_id=CUSTOMER["id"]) is None
    assert client.record_url("currencyExchangeRates", key="EUR") is None


def test_record_url_with_configured_web_url(api: ScriptedApi, tokens: TokenProvider) -> None:
    client = BusinessCentralClient(
        api.client(), api_url="http://127.0.0.1:1/odata", tokens=tokens, web_url="http://127.0.0.1:1/web/"
    )
    assert client.record_url("items", key="1896-S") == (
        "http://127.0.0.1:1/web/?company=CRONUS%20International%20Ltd.&page=30&filter=%27No.%27%20IS%20%271896-S%27"
    )
    unlinked = BusinessCentralClient(api.client(), api_url="http://127.0.0.1:1/odata", tokens=tokens)
    assert unlinked.record_url("items", key="1896-S") is None
