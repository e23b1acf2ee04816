"""Contract: several `$batch` requests in flight against the sandbox, lost answers, lookups by ids."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from bot.connectors import BatchOperation, BusinessCentralClient, DataverseClient, RetryPolicy, TokenProvider
from bot.connectors.dataverse import new_record_id
from bot.connectors.pacing import PacingLimits
from bot.sandbox import SandboxServer

BATCH_PATH = "/dataverse/api/data/v9.2/$batch"


def dataverse(
    sandbox: SandboxServer, http: httpx.Client, tokens: TokenProvider, *, concurrency: int, retry: RetryPolicy
) -> DataverseClient:
    return DataverseClient(
        http,
        environment_url=sandbox.dataverse_url,
        tokens=tokens,
        retry=retry,
        pacing=PacingLimits(max_concurrency=concurrency, initial_concurrency=concurrency),
        batch_size=10,
    )


def contacts_named(dv: DataverseClient, lastname: str) -> int:
    return len(dv.find("contacts", "lastname", lastname))


def test_several_batches_in_flight_at_once_answer_in_order(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider, retry: RetryPolicy
) -> None:
    dv = dataverse(sandbox, http, sandbox_tokens, concurrency=4, retry=retry)
    tag = f"Par{uuid.uuid4().hex[:8]}"
    operations = [
        BatchOperation("POST", "contacts", ref=str(n), body={"firstname": f"P{n}", "lastname": tag})
        for n in range(80)
    ]
    sandbox.set_fault("slow", seconds=0.1, side="dataverse")
    started = time.perf_counter()
    results = dv.batch(operations)
    elapsed = time.perf_counter() - started
    sandbox.clear_faults()
    assert [result.ref for result in results] == [str(n) for n in range(80)]
    assert [r.record.fields["firstname"] for r in results if r.record] == [f"P{n}" for n in range(80)]
    stats = dv.pacing_stats()
    assert 2 <= stats.peak_in_flight <= 4
    assert elapsed < 8 * 0.1  # eight sub-batches of 0.1 s each did not run one after the other
    assert contacts_named(dv, tag) == 80
    dv.close()


def test_a_lost_create_answer_is_unknown_and_the_records_are_found_by_their_ids_once(
    sandbox: SandboxServer, sandbox_tokens: TokenProvider, retry: RetryPolicy
) -> None:
    tag = f"Lost{uuid.uuid4().hex[:8]}"
    ids = [new_record_id() for _ in range(10)]
    operations = [
        BatchOperation(
            "POST", "contacts", ref=str(n), id=ids[n], body={"firstname": f"L{n}", "lastname": tag}
        )
        for n in range(10)
    ]
    with httpx.Client(timeout=httpx.Timeout(0.3, connect=2.0)) as impatient:
        dv = dataverse(sandbox, impatient, sandbox_tokens, concurrency=2, retry=retry)
        sandbox.set_fault("slow", seconds=1.0, side="dataverse")
        before = sandbox.request_count(BATCH_PATH)
        results = dv.batch(operations)
        sent = sandbox.request_count(BATCH_PATH) - before
        time.sleep(1.2)  # the service commits the batch after the client gave up on it
        sandbox.clear_faults()
        dv.close()
    assert [result.outcome for result in results] == ["unknown"] * 10
    assert sent == 1  # a batch of creates is never sent again after its answer was lost
    with httpx.Client(timeout=5.0) as http:
        dv = dataverse(sandbox, http, sandbox_tokens, concurrency=2, retry=retry)
        found = dv.get_many("contacts", [*ids, new_record_id()])
        assert sorted(record.id for record in found) == sorted(ids)
        assert contacts_named(dv, tag) == 10
        dv.close()


def test_a_create_with_its_id_in_the_body_is_looked_up_after_a_lost_answer_too(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider, retry: RetryPolicy
) -> None:
    dv = dataverse(sandbox, http, sandbox_tokens, concurrency=1, retry=retry)
    chosen = new_record_id()
    body = {"contactid": chosen, "firstname": "Body", "lastname": f"Id{uuid.uuid4().hex[:8]}"}
    sandbox.set_fault("lost-batch-answer", mode="drop", side="dataverse")
    (result,) = dv.batch([BatchOperation("POST", "contacts", ref="x", body=body)])
    sandbox.clear_faults()
    assert result.outcome == "written" and result.record is not None and result.record.id == chosen
    dv.close()


@pytest.mark.parametrize("mode", ["drop", "error"])
def test_creates_committed_before_the_answer_was_lost_are_found_and_reported_written(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider, retry: RetryPolicy, mode: str
) -> None:
    dv = dataverse(sandbox, http, sandbox_tokens, concurrency=3, retry=retry)
    tag = f"Drop{uuid.uuid4().hex[:8]}"
    operations = [
        BatchOperation(
            "POST", "contacts", ref=str(n), id=new_record_id(), body={"firstname": "D", "lastname": tag}
        )
        for n in range(30)
    ]
    sandbox.set_fault("lost-batch-answer", mode=mode, side="dataverse", request=2, count=1)
    before = sandbox.request_count(BATCH_PATH)
    results = dv.batch(operations)
    sent = sandbox.request_count(BATCH_PATH) - before
    sandbox.clear_faults()
    assert all(result.outcome == "written" for result in results)
    assert [result.record.id for result in results if result.record] == [op.id for op in operations]
    assert sent == 3  # the lost one was looked up, not sent again
    assert contacts_named(dv, tag) == 30
    dv.close()


def test_business_central_creates_whose_answer_was_lost_stay_unknown(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider, retry: RetryPolicy
) -> None:
    bc = BusinessCentralClient(
        http, api_url=sandbox.bc_api_url, tokens=sandbox_tokens, retry=retry, batch_size=5
    )
    tag = f"Lost {uuid.uuid4().hex[:8]}"
    operations = [
        BatchOperation("POST", "contacts", ref=str(n), body={"displayName": f"{tag} {n}", "type": "Person"})
        for n in range(5)
    ]
    sandbox.set_fault("lost-batch-answer", mode="drop", side="bc")
    results = bc.batch(operations)
    sandbox.clear_faults()
    assert [result.outcome for result in results] == ["unknown"] * 5
    created = [
        r
        for page in bc.iter_changed("contacts")
        for r in page
        if str(r.fields["displayName"]).startswith(tag)
    ]
    assert len(created) == 5  # committed once, never sent twice
    bc.close()


def test_business_central_finds_records_by_number(bc: BusinessCentralClient) -> None:
    customers = [record for page in bc.iter_changed("customers") for record in page][:3]
    numbers = [str(record.fields["number"]) for record in customers]
    found = bc.find_by_numbers("customers", [*numbers, "NO-SUCH-NUMBER"])
    assert sorted(str(record.fields["number"]) for record in found) == sorted(numbers)
    by_id = bc.get_many("customers", [record.id for record in customers])
    assert sorted(record.id for record in by_id) == sorted(record.id for record in customers)


def test_systemusers_are_read_with_columns_and_only_usable_users(
    dv: DataverseClient, sandbox: SandboxServer
) -> None:
    users = [record for page in dv.iter_changed("systemusers") for record in page]
    assert users and sandbox.integration_user_id not in {user.id for user in users}
    assert all(not user.fields["isdisabled"] and user.fields["islicensed"] for user in users)
    assert all(user.fields["applicationid"] is None for user in users)
    everyone = {record.id for page in dv.iter_changed("systemusers", select=[]) for record in page}
    assert sandbox.integration_user_id in everyone
