"""Contract: BusinessCentralClient against the sandbox over loopback HTTP."""

from __future__ import annotations

import html
from datetime import timedelta

import httpx
import pytest

from bot.connectors import (
    BatchOperation,
    BusinessCentralClient,
    ConcurrencyConflict,
    InvalidData,
    NotFound,
    TokenProvider,
)
from bot.connectors.pacing import ONE_AT_A_TIME
from bot.sandbox import SandboxServer


def test_company_is_resolved(bc: BusinessCentralClient, sandbox: SandboxServer) -> None:
    assert bc.company_id == sandbox.company_id
    assert bc.company_name() == "CRONUS International Ltd."
    assert [company["id"] for company in bc.companies()] == [sandbox.company_id]


def test_pages_stream_across_next_links(bc: BusinessCentralClient, sandbox: SandboxServer) -> None:
    bc.company_id  # noqa: B018 (resolve the company first, so only page requests are counted below)
    before = bc.requests_made
    pages = list(bc.iter_changed("customers", page_size=7))
    total = sandbox.state.counts()["bc"]["customers"]
    assert len(pages) == -(-total // 7) >= 3
    assert all(len(page) <= 7 for page in pages)
    ids = [record.id for page in pages for record in page]
    assert len(ids) == len(set(ids)) == total
    assert bc.requests_made - before == len(pages)


def test_changed_since_returns_only_newer_records(bc: BusinessCentralClient) -> None:
    everything = [record for page in bc.iter_changed("customers") for record in page]
    newest = max(record.modified_at for record in everything)
    assert list(bc.iter_changed("customers", since=newest)) == []
    created = bc.create("customers", {"displayName": "Changed Since Ltd."})
    changed = [record for page in bc.iter_changed("customers", since=newest) for record in page]
    assert [record.id for record in changed] == [created.id]
    assert not list(bc.iter_changed("customers", since=created.modified_at))
    older = list(bc.iter_changed("customers", since=created.modified_at - timedelta(milliseconds=1)))
    assert [record.id for page in older for record in page] == [created.id]


def test_select_keeps_id_and_modified_fields(bc: BusinessCentralClient) -> None:
    first = next(iter(bc.iter_changed("items", select=["number"], page_size=2)))[0]
    assert set(first.fields) == {"id", "lastModifiedDateTime", "number"}
    assert first.etag


def test_create_update_delete_with_etags(bc: BusinessCentralClient) -> None:
    created = bc.create("customers", {"displayName": "Contract Test Ltd.", "city": "Leeds"})
    assert created.fields["number"] and created.etag
    assert bc.get("customers", created.id).fields["displayName"] == "Contract Test Ltd."
    updated = bc.update("customers", created.id, {"city": "York"}, etag=created.etag)
    assert updated.fields["city"] == "York" and updated.etag != created.etag
    with pytest.raises(ConcurrencyConflict) as caught:
        bc.update("customers", created.id, {"city": "Hull"}, etag=created.etag)
    assert caught.value.code == "Request_EntityChanged"
    assert "CorrelationId" not in caught.value.message
    bc.delete("customers", created.id, etag=updated.etag)
    with pytest.raises(NotFound):
        bc.get("customers", created.id)


def test_find_by_number(bc: BusinessCentralClient) -> None:
    found = bc.find("customers", "number", "10000")
    assert [record.fields["number"] for record in found] == ["10000"]
    assert bc.find("customers", "number", "no such ' number") == []


def test_refused_data_is_invalid_data(bc: BusinessCentralClient) -> None:
    with pytest.raises(InvalidData) as caught:
        bc.create("customers", {"displayName": "Bad Currency Ltd.", "currencyCode": "XXX"})
    assert caught.value.status == 400
    assert caught.value.system == "business_central"
    assert "CorrelationId" not in caught.value.message


def test_batch_with_partial_failure(bc: BusinessCentralClient) -> None:
    victim = bc.create("customers", {"displayName": "Batch Victim Ltd."})
    results = bc.batch(
        [
            BatchOperation("POST", "customers", ref="new", body={"displayName": "Batch New Ltd."}),
            BatchOperation(
                "PATCH",
                "customers",
                ref="missing",
                id="00000000-0000-0000-0000-00000000abcd",
                body={"city": "X"},
            ),
            BatchOperation(
                "PATCH", "customers", ref="update", id=victim.id, body={"city": "Bath"}, etag=victim.etag
            ),
            BatchOperation("DELETE", "customers", ref="delete", id=victim.id),
        ]
    )
    by_ref = {result.ref: result for result in results}
    assert [result.ref for result in results] == ["new", "missing", "update", "delete"]
    assert by_ref["new"].ok and by_ref["new"].record is not None
    assert by_ref["new"].record.fields["displayName"] == "Batch New Ltd."
    assert isinstance(by_ref["missing"].error, NotFound)
    assert by_ref["update"].ok and by_ref["update"].record is not None
    assert by_ref["update"].record.fields["city"] == "Bath"
    assert by_ref["delete"].ok and by_ref["delete"].record is None
    with pytest.raises(NotFound):
        bc.get("customers", victim.id)


def test_batch_is_split_at_the_limit(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider
) -> None:
    bc = BusinessCentralClient(
        http, api_url=sandbox.bc_api_url, tokens=sandbox_tokens, pacing=ONE_AT_A_TIME, batch_size=500
    )
    bc.company_id  # noqa: B018
    before = sandbox.request_count("/bc")
    operations = [
        BatchOperation(
            "POST", "contacts", ref=str(n), body={"displayName": f"Batch Contact {n}", "type": "Person"}
        )
        for n in range(bc.BATCH_LIMIT + 20)
    ]
    results = bc.batch(operations)
    assert all(result.ok for result in results), [r.error for r in results if r.error][:1]
    assert sandbox.request_count("/bc") - before == 2
    bc.close()


def test_record_url_opens_the_card(
    bc: BusinessCentralClient, sandbox: SandboxServer, http: httpx.Client
) -> None:
    record = bc.find("customers", "number", "10000")[0]
    url = bc.record_url("customers", record)
    assert url == (
        f"{sandbox.bc_web_url}/?company=CRONUS%20International%20Ltd.&page=21&filter=%27No.%27%20IS%20%2710000%27"
    )
    page = http.get(url)
    assert page.status_code == 200
    assert html.escape(record.fields["displayName"], quote=True) in page.text
