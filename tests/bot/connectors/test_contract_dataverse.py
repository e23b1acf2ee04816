"""Contract: DataverseClient against the sandbox over loopback HTTP."""

from __future__ import annotations

import html

import httpx
import pytest

from bot.connectors import (
    BatchOperation,
    ConcurrencyConflict,
    DataverseClient,
    InvalidData,
    NotFound,
    TokenProvider,
)
from bot.connectors.pacing import ONE_AT_A_TIME
from bot.sandbox import SANDBOX_CLIENT_ID, SandboxServer


def usd(dv: DataverseClient) -> str:
    return dv.find("transactioncurrencies", "isocurrencycode", "USD")[0].id


def test_identity_of_the_integration_user(dv: DataverseClient, sandbox: SandboxServer) -> None:
    me = dv.who_am_i()
    assert me.user_id == sandbox.integration_user_id
    assert me.business_unit_id and me.organization_id
    user = dv.get_user(me.user_id)
    assert user.access_mode == 4 and not user.is_disabled
    assert user.application_id == SANDBOX_CLIENT_ID
    assert "System Administrator" not in user.roles
    assert user.roles
    application_user = dv.find_application_user(SANDBOX_CLIENT_ID)
    assert application_user is not None and application_user.id == me.user_id
    assert dv.find_application_user("00000000-0000-0000-0000-000000000000") is None


def test_privileges_of_the_integration_user(dv: DataverseClient, sandbox: SandboxServer) -> None:
    privileges = dv.user_privileges(dv.who_am_i().user_id)
    assert {"prvCreateAccount", "prvWriteContact", "prvReadTransactionCurrency", "prvReadUser"} <= set(
        privileges
    )
    assert len(privileges) == len(set(privileges))
    sandbox.set_fault("missing-privilege", privilege="prvCreateAccount")
    assert set(privileges) - set(dv.user_privileges(sandbox.integration_user_id)) == {"prvCreateAccount"}
    with pytest.raises(NotFound):
        dv.user_privileges("00000000-0000-4000-8000-000000000000")


def test_pages_stream_across_next_links(dv: DataverseClient, sandbox: SandboxServer) -> None:
    pages = list(dv.iter_changed("accounts", page_size=6))
    total = sandbox.state.counts()["dataverse"]["accounts"]
    assert len(pages) == -(-total // 6) >= 3
    ids = [record.id for page in pages for record in page]
    assert len(ids) == len(set(ids)) == total
    assert all(record.modified_by for page in pages for record in page)
    assert dv.requests_made == len(pages)


def test_changed_since_returns_only_newer_rows(dv: DataverseClient) -> None:
    everything = [record for page in dv.iter_changed("contacts") for record in page]
    newest = max(record.modified_at for record in everything)
    assert list(dv.iter_changed("contacts", since=newest)) == []
    created = dv.create("contacts", {"firstname": "Since", "lastname": "Newer"})
    changed = [record for page in dv.iter_changed("contacts", since=newest) for record in page]
    assert [record.id for record in changed] == [created.id]


def test_select_keeps_id_modified_and_modified_by(dv: DataverseClient) -> None:
    first = next(iter(dv.iter_changed("products", select=["name"])))[0]
    assert set(first.fields) == {"productid", "modifiedon", "_modifiedby_value", "name"}


def test_create_update_delete_with_etags(dv: DataverseClient) -> None:
    body = {
        "name": "Contract Account",
        "transactioncurrencyid@odata.bind": f"/transactioncurrencies({usd(dv)})",
    }
    created = dv.create("accounts", body)
    assert created.fields["name"] == "Contract Account"
    assert created.fields["_transactioncurrencyid_value"] == usd(dv)
    assert created.etag and created.id
    updated = dv.update("accounts", created.id, {"telephone1": "+1 555 0100"}, etag=created.etag)
    assert updated.fields["telephone1"] == "+1 555 0100" and updated.etag != created.etag
    with pytest.raises(ConcurrencyConflict) as caught:
        dv.update("accounts", created.id, {"telephone1": "+1 555 0199"}, etag=created.etag)
    assert caught.value.status == 412
    dv.delete("accounts", created.id, etag=updated.etag)
    with pytest.raises(NotFound):
        dv.get("accounts", created.id)
    with pytest.raises(NotFound):
        dv.update("accounts", created.id, {"name": "Resurrected?"})


def test_refused_data_is_invalid_data(dv: DataverseClient) -> None:
    with pytest.raises(InvalidData) as caught:
        dv.create(
            "accounts", {"name": "Bad", "transactioncurrencyid@odata.bind": "/transactioncurrencies(nope)"}
        )
    assert caught.value.status == 400
    assert caught.value.code


def test_batch_continues_after_a_refused_row(dv: DataverseClient) -> None:
    victim = dv.create("accounts", {"name": "Batch Victim"})
    results = dv.batch(
        [
            BatchOperation("POST", "accounts", ref="new", body={"name": "Batch New"}),
            BatchOperation("PATCH", "accounts", ref="stale", id=victim.id, body={"name": "x"}, etag='W/"1"'),
            BatchOperation("PATCH", "accounts", ref="update", id=victim.id, body={"name": "Batch Renamed"}),
            BatchOperation("DELETE", "accounts", ref="missing", id="00000000-0000-0000-0000-00000000abcd"),
            BatchOperation("DELETE", "accounts", ref="delete", id=victim.id, etag=None),
        ]
    )
    by_ref = {result.ref: result for result in results}
    assert [result.ref for result in results] == ["new", "stale", "update", "missing", "delete"]
    assert by_ref["new"].ok and by_ref["new"].record is not None
    assert by_ref["new"].record.fields["name"] == "Batch New"
    assert dv.get("accounts", by_ref["new"].record.id).fields["name"] == "Batch New"
    assert isinstance(by_ref["stale"].error, ConcurrencyConflict)
    assert by_ref["update"].ok and by_ref["update"].record is not None
    assert by_ref["update"].record.fields["name"] == "Batch Renamed"
    assert isinstance(by_ref["missing"].error, NotFound)
    assert by_ref["delete"].ok
    with pytest.raises(NotFound):
        dv.get("accounts", victim.id)


def test_batch_is_split_at_the_limit(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider
) -> None:
    dv = DataverseClient(
        http,
        environment_url=sandbox.dataverse_url,
        tokens=sandbox_tokens,
        batch_size=5000,
        pacing=ONE_AT_A_TIME,
    )
    assert dv.batch_size == dv.BATCH_LIMIT
    before = sandbox.request_count("/dataverse")
    operations = [
        BatchOperation("POST", "contacts", ref=str(n), body={"firstname": "Bulk", "lastname": str(n)})
        for n in range(dv.BATCH_LIMIT + 1)
    ]
    results = dv.batch(operations)
    assert len(results) == 1001 and all(result.ok for result in results)
    assert sandbox.request_count("/dataverse") - before == 2
    dv.close()


def test_batch_is_split_into_even_sub_batches_for_the_batches_in_flight(
    dv: DataverseClient, sandbox: SandboxServer
) -> None:
    before = sandbox.request_count("/dataverse")
    operations = [
        BatchOperation("POST", "contacts", ref=str(n), body={"firstname": "Sub", "lastname": str(n)})
        for n in range(250)
    ]
    results = dv.batch(operations)
    assert [result.ref for result in results] == [str(n) for n in range(250)]
    assert all(result.ok for result in results)
    assert [result.record.fields["lastname"] for result in results if result.record] == [
        str(n) for n in range(250)
    ]
    # Three sub-batches' worth, spread evenly over the 16 that may be in flight: 16 requests of 16 or fewer.
    assert sandbox.request_count("/dataverse") - before == 16


def test_record_url_opens_the_row(dv: DataverseClient, sandbox: SandboxServer, http: httpx.Client) -> None:
    record = next(iter(dv.iter_changed("accounts", page_size=1)))[0]
    url = dv.record_url("accounts", record)
    assert url == f"{sandbox.dataverse_url}/main.aspx?pagetype=entityrecord&etn=account&id={record.id}"
    page = http.get(url)
    assert page.status_code == 200
    assert html.escape(record.fields["name"], quote=True) in page.text


def test_writes_answer_with_the_configured_columns_only(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider
) -> None:
    dv = DataverseClient(
        http,
        environment_url=sandbox.dataverse_url,
        tokens=sandbox_tokens,
        columns={"accounts": ["name", "telephone1"]},
    )
    read = {"accountid", "modifiedon", "_modifiedby_value", "name", "telephone1"}
    created = dv.create("accounts", {"name": "Selected", "websiteurl": "https://example.com"})
    assert set(created.fields) == read and created.etag
    updated = dv.update("accounts", created.id, {"telephone1": "+1 555 0101"}, etag=created.etag)
    assert set(updated.fields) == read and updated.fields["telephone1"] == "+1 555 0101"
    results = dv.batch(
        [
            BatchOperation("POST", "accounts", ref="new", body={"name": "Selected 2"}),
            BatchOperation("PATCH", "accounts", ref="update", id=created.id, body={"name": "Renamed"}),
        ]
    )
    for result in results:
        assert result.ok and result.record is not None and set(result.record.fields) == read
    assert dv.get("accounts", created.id).fields["websiteurl"] == "https://example.com"
