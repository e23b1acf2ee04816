"""Sub-batches sent several at once: the bound, the order of results, and what a lost answer means."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from bot.connectors import BatchOperation, BusinessCentralClient, RetryPolicy, TokenProvider
from bot.connectors.batching import split
from bot.connectors.errors import InvalidData, Timeout
from bot.connectors.pacing import PacingLimits
from tests.bot.connectors.scripted import BC_API_URL, ScriptedApi, json_response


class InFlightApi:
    """A Business Central `$batch` stand-in that counts requests in flight and answers after a pause."""

    def __init__(self, *, pause: float = 0.02, lose_creates: bool = False) -> None:
        self.pause = pause
        self.lose_creates = lose_creates
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.batches: list[list[dict[str, object]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        requests = json.loads(request.content)["requests"]
        with self.lock:
            self.batches.append(requests)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(self.pause)
            if self.lose_creates and any(part["method"] == "POST" for part in requests):
                raise httpx.ReadTimeout("timed out", request=request)
            responses = [
                {
                    "id": part["id"],
                    "status": 201 if part["method"] == "POST" else 200,
                    "body": part.get("body"),
                }
                for part in requests
            ]
            return json_response(200, {"responses": responses})
        finally:
            with self.lock:
                self.in_flight -= 1


def client_on(
    api: InFlightApi, tokens: TokenProvider, *, concurrency: int, retry: RetryPolicy
) -> BusinessCentralClient:
    http = httpx.Client(transport=httpx.MockTransport(ScriptedApi(api)))
    limits = PacingLimits(max_concurrency=concurrency, initial_concurrency=concurrency)
    return BusinessCentralClient(
        http, api_url=BC_API_URL, tokens=tokens, company_id="abc", pacing=limits, batch_size=10, retry=retry
    )


def updates(count: int) -> list[BatchOperation]:
    return [
        BatchOperation("PATCH", "customers", ref=f"r{n}", id=f"id{n}", body={"displayName": f"Customer {n}"})
        for n in range(count)
    ]


def test_sub_batches_run_at_once_within_the_bound_and_results_keep_the_order(
    tokens: TokenProvider, retry: RetryPolicy
) -> None:
    api = InFlightApi()
    client = client_on(api, tokens, concurrency=3, retry=retry)
    results = client.batch(updates(100))
    assert [result.ref for result in results] == [f"r{n}" for n in range(100)]
    assert [result.record.fields["displayName"] for result in results if result.record] == [
        f"Customer {n}" for n in range(100)
    ]
    assert len(api.batches) == 10 and all(len(batch) == 10 for batch in api.batches)
    assert api.peak == 3
    assert client.pacing_stats().peak_in_flight == 3
    client.close()


def test_concurrency_one_sends_one_batch_at_a_time(tokens: TokenProvider, retry: RetryPolicy) -> None:
    api = InFlightApi(pause=0.005)
    client = client_on(api, tokens, concurrency=1, retry=retry)
    results = client.batch(updates(50))
    assert all(result.ok for result in results)
    assert api.peak == 1 and len(api.batches) == 5
    client.close()


def test_a_batch_of_creates_whose_answer_was_lost_is_unknown_and_never_sent_again(
    tokens: TokenProvider, retry: RetryPolicy
) -> None:
    api = InFlightApi(lose_creates=True)
    client = client_on(api, tokens, concurrency=1, retry=retry)
    creates = [
        BatchOperation("POST", "customers", ref=f"new{n}", body={"displayName": f"New {n}"})
        for n in range(10)
    ]
    results = client.batch([*updates(10), *creates, *updates(10)])
    assert [result.outcome for result in results[:10]] == ["written"] * 10
    assert [result.outcome for result in results[10:20]] == ["unknown"] * 10
    assert all(isinstance(result.error, Timeout) for result in results[10:20])
    # Not sent after the failure: certainly not applied.
    assert [result.outcome for result in results[20:]] == ["refused"] * 10
    assert sum(1 for batch in api.batches if batch[0]["method"] == "POST") == 1
    assert len(api.batches) == 2
    client.close()


def test_with_several_in_flight_a_lost_create_batch_is_still_sent_once(
    tokens: TokenProvider, retry: RetryPolicy
) -> None:
    api = InFlightApi(lose_creates=True)
    client = client_on(api, tokens, concurrency=4, retry=retry)
    creates = [
        BatchOperation("POST", "customers", ref=f"new{n}", body={"displayName": f"New {n}"})
        for n in range(10)
    ]
    results = client.batch([*updates(30), *creates, *updates(30)])
    assert len(results) == 70
    assert [result.outcome for result in results[30:40]] == ["unknown"] * 10
    assert all(result.outcome in ("written", "refused") for result in results[:30] + results[40:])
    assert sum(1 for batch in api.batches if batch[0]["method"] == "POST") == 1
    client.close()


def test_a_refused_batch_is_refused_not_unknown(tokens: TokenProvider, retry: RetryPolicy) -> None:
    def refuse(_request: httpx.Request) -> httpx.Response:
        return json_response(400, {"error": {"code": "BadRequest", "message": "Malformed batch."}})

    http = httpx.Client(transport=httpx.MockTransport(ScriptedApi(refuse)))
    client = BusinessCentralClient(http, api_url=BC_API_URL, tokens=tokens, company_id="abc", retry=retry)
    results = client.batch([BatchOperation("POST", "customers", ref="a", body={"displayName": "A"})])
    assert results[0].outcome == "refused" and isinstance(results[0].error, InvalidData)
    client.close()


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_5xx_after_sending_creates_is_unknown(
    tokens: TokenProvider, retry: RetryPolicy, status: int
) -> None:
    api = ScriptedApi(lambda _request: json_response(status, {"error": {"code": "Internal_ServerError"}}))
    client = BusinessCentralClient(
        api.client(), api_url=BC_API_URL, tokens=tokens, company_id="abc", retry=retry
    )
    results = client.batch([BatchOperation("POST", "customers", ref="a", body={"displayName": "A"})])
    assert results[0].outcome == "unknown"
    assert len(api.requests) == 1  # a create is not repeated after a 5xx
    client.close()


def test_split_makes_even_waves_for_the_batches_in_flight() -> None:
    def sizes(count: int, size: int, parallel: int) -> list[int]:
        operations = [BatchOperation("DELETE", "customers", ref=str(n), id=str(n)) for n in range(count)]
        chunks = split(operations, size, parallel=parallel)
        assert [op for chunk in chunks for op in chunk] == operations
        return [len(chunk) for chunk in chunks]

    assert sizes(1000, 100, 1) == [100] * 10
    assert sizes(1000, 100, 8) == [63] * 15 + [55]
    assert sizes(120, 100, 8) == [15] * 8
    assert sizes(30, 100, 8) == [10] * 3  # never below ten operations a request
    assert sizes(5, 100, 8) == [5]
    assert sizes(0, 100, 8) == []
