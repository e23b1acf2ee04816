"""What the sync-integrity tests need from the sandbox, over real HTTP: `$batch` answers lost after the
commit, edits made as a person, client-chosen primary keys, upsert and lookups that name what is missing."""

from __future__ import annotations

import uuid

import httpx
import pytest

from bot.sandbox import SandboxServer
from tests.sandbox.test_batches import _http_part, _multipart, _post_batch, _statuses


def _dv_creates(names: list[str], ids: list[str] | None = None) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        body: dict[str, object] = {"name": name}
        if ids is not None:
            body["accountid"] = ids[index]
        parts.append(_http_part("POST", "accounts", body))
    return parts


def _dv_count(sandbox: SandboxServer, name: str) -> int:
    return sum(1 for row in sandbox.state.dv_rows("accounts") if row["name"] == name)


def _bc_create(sandbox: SandboxServer, name: str, op_id: str) -> dict[str, object]:
    return {
        "id": op_id,
        "method": "POST",
        "url": f"companies({sandbox.company_id})/customers",
        "headers": {"Content-Type": "application/json"},
        "body": {"displayName": name},
    }


def test_a_dataverse_batch_answered_after_the_read_timeout_is_committed(
    sandbox: SandboxServer, dv: httpx.Client
) -> None:
    sandbox.set_fault("lost-batch-answer", side="dataverse", mode="delay", seconds=1.5)
    with pytest.raises(httpx.ReadTimeout):
        _post_batch_with_timeout(dv, _dv_creates(["Late Answer Ltd."]), timeout=0.3)
    assert _dv_count(sandbox, "Late Answer Ltd.") == 1
    # count=1: the next batch is answered at once
    assert _statuses(_post_batch(dv, _dv_creates(["On Time Ltd."]))) == [204]


def _post_batch_with_timeout(dv: httpx.Client, parts: list[str], timeout: float) -> httpx.Response:
    headers = {"Content-Type": "multipart/mixed; boundary=batch_1"}
    body = _multipart("batch_1", parts).encode()
    return dv.post("$batch", content=body, headers=headers, timeout=httpx.Timeout(5.0, read=timeout))


def test_a_dropped_connection_after_the_commit_on_both_apis(
    sandbox: SandboxServer, dv: httpx.Client, bc: httpx.Client
) -> None:
    sandbox.set_fault("lost-batch-answer", mode="drop", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _post_batch(dv, _dv_creates(["Dropped Answer Ltd."]))
    assert _dv_count(sandbox, "Dropped Answer Ltd.") == 1
    with pytest.raises(httpx.RemoteProtocolError):
        bc.post(f"{sandbox.bc_api_url}/$batch", json={"requests": [_bc_create(sandbox, "Dropped BC", "1")]})
    assert [row["displayName"] for row in sandbox.state.bc_rows("customers")].count("Dropped BC") == 1


def test_which_batch_and_how_many_times(sandbox: SandboxServer, dv: httpx.Client) -> None:
    sandbox.set_fault("lost-batch-answer", side="dataverse", mode="error", request=2, count=2)
    assert _statuses(_post_batch(dv, _dv_creates(["One"]))) == [204]
    for name in ("Two", "Three"):
        refused = _post_batch(dv, _dv_creates([name]))
        assert refused.status_code == 500 and refused.json()["error"]["code"] == "0x80040216"
        assert _dv_count(sandbox, name) == 1  # committed all the same
    assert _statuses(_post_batch(dv, _dv_creates(["Four"]))) == [204]
    # single requests are never hit
    assert dv.get("WhoAmI").status_code == 200


def test_lost_answer_rejects_an_unknown_mode(sandbox: SandboxServer, http: httpx.Client) -> None:
    response = http.post(f"{sandbox.url}/_sandbox/faults", json={"fault": "lost-batch-answer", "mode": "x"})
    assert response.status_code == 400 and "mode must be one of" in response.json()["error"]["message"]


def test_dataverse_edits_as_a_person_are_not_the_integration_users(
    sandbox: SandboxServer, http: httpx.Client, dv: httpx.Client
) -> None:
    base = f"{sandbox.url}/_sandbox/records/dataverse/accounts"
    created = http.post(base, json={"name": "Typed In Sales", "customertypecode": 11})
    assert created.status_code == 201
    row = created.json()
    assert row["_modifiedby_value"] == row["_createdby_value"] == sandbox.state.identities.editor_user_id
    assert row["_modifiedby_value"] != sandbox.integration_user_id
    edited = http.patch(f"{base}/{row['accountid']}", json={"telephone1": "+420 555 0100"})
    assert edited.status_code == 200 and edited.json()["@odata.etag"] != row["@odata.etag"]
    assert dv.get(f"accounts({row['accountid']})").json()["telephone1"] == "+420 555 0100"
    written = dv.patch(f"accounts({row['accountid']})", json={"fax": "1"}, headers={"If-Match": "*"})
    assert written.status_code == 204
    assert dv.get(f"accounts({row['accountid']})").json()["_modifiedby_value"] == sandbox.integration_user_id
    assert http.delete(f"{base}/{row['accountid']}").status_code == 204
    assert dv.get(f"accounts({row['accountid']})").status_code == 404
    missing = http.patch(f"{base}/{row['accountid']}", json={"name": "x"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "0x80040217"


def test_business_central_edits_as_a_person(
    sandbox: SandboxServer, http: httpx.Client, bc: httpx.Client
) -> None:
    base = f"{sandbox.url}/_sandbox/records/bc/contacts"
    company = next(row for row in sandbox.state.bc_rows("contacts") if row["type"] == "Company")
    person = http.post(
        base, json={"type": "Person", "displayName": "Hana Kral", "companyNumber": company["number"]}
    ).json()
    assert person["companyName"] == company["displayName"] and person["number"].startswith("CT")
    assert bc.get(f"contacts({person['id']})").json()["companyNumber"] == company["number"]
    edited = http.patch(f"{base}/{person['id']}", json={"email": "hana@example.com"})
    assert edited.json()["email"] == "hana@example.com"
    bad = http.patch(f"{base}/{person['id']}", json={"companyNumber": "NOPE"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Internal_InvalidTableRelation"
    assert http.delete(f"{base}/{person['id']}").status_code == 204
    assert bc.get(f"contacts({person['id']})").status_code == 404
    assert http.post(f"{sandbox.url}/_sandbox/records/nowhere/x", json={}).status_code == 404


def test_dataverse_create_honours_the_client_chosen_key_and_refuses_a_duplicate(dv: httpx.Client) -> None:
    account_id = str(uuid.uuid4())
    created = dv.post("accounts", json={"accountid": account_id, "name": "Chosen Key"})
    assert created.status_code == 204
    assert created.headers["OData-EntityId"].endswith(f"accounts({account_id})")
    again = dv.post("accounts", json={"accountid": account_id, "name": "Chosen Key"})
    assert again.status_code == 412
    assert again.json()["error"] == {"code": "0x80040237", "message": "Cannot insert duplicate key."}


def test_dataverse_batch_retry_with_the_same_keys_creates_nothing_twice(
    sandbox: SandboxServer, dv: httpx.Client
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    sandbox.set_fault("lost-batch-answer", side="dataverse", mode="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        _post_batch(dv, _dv_creates(["Idem A", "Idem B", "Idem C"], ids))
    retry = _post_batch(
        dv, _dv_creates(["Idem A", "Idem B", "Idem C"], ids), prefer="odata.continue-on-error"
    )
    assert _statuses(retry) == [412, 412, 412]
    assert "Cannot insert duplicate key." in retry.text
    assert [_dv_count(sandbox, name) for name in ("Idem A", "Idem B", "Idem C")] == [1, 1, 1]


def test_dataverse_patch_to_a_missing_id_is_an_upsert_unless_if_match(dv: httpx.Client) -> None:
    missing = str(uuid.uuid4())
    guarded = dv.patch(f"accounts({missing})", json={"name": "Only If There"}, headers={"If-Match": "*"})
    assert guarded.status_code == 404
    assert guarded.json()["error"]["message"] == f"Entity 'account' With Id = {missing} Does Not Exist"
    upserted = dv.patch(f"accounts({missing})", json={"name": "Upserted"})
    assert upserted.status_code == 204
    assert dv.get(f"accounts({missing})").json()["name"] == "Upserted"
    create_only = dv.patch(f"accounts({missing})", json={"name": "x"}, headers={"If-None-Match": "*"})
    assert create_only.status_code == 412


def test_dataverse_bad_lookup_names_the_referenced_table(dv: httpx.Client) -> None:
    missing_account, missing_currency = str(uuid.uuid4()), str(uuid.uuid4())
    contact = dv.post(
        "contacts",
        json={"lastname": "Orphan", "parentcustomerid_account@odata.bind": f"/accounts({missing_account})"},
    )
    assert contact.status_code == 404
    assert contact.json()["error"] == {
        "code": "0x80040217",
        "message": f"account With Id = {missing_account} Does Not Exist",
    }
    account = dv.get("accounts", params={"$top": "1"}).json()["value"][0]
    bound = dv.patch(
        f"accounts({account['accountid']})",
        json={"transactioncurrencyid@odata.bind": f"/transactioncurrencies({missing_currency})"},
        headers={"If-Match": "*"},
    )
    assert bound.status_code == 404
    message = bound.json()["error"]["message"]
    assert message == f"transactioncurrency With Id = {missing_currency} Does Not Exist"
    assert account["accountid"] not in message
    gone = dv.get(f"accounts({missing_account})")
    assert gone.json()["error"]["message"] == f"Entity 'account' With Id = {missing_account} Does Not Exist"


def test_business_central_names_the_related_table(bc: httpx.Client) -> None:
    customer = bc.get("customers", params={"$top": "1"}).json()["value"][0]
    # the API page validates the currency itself (APIV2 - Customers)
    refused = bc.patch(
        f"customers({customer['id']})", json={"currencyCode": "XYZ"}, headers={"If-Match": "*"}
    )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "Application_DialogException"
    assert error["message"].startswith('The "currencyCode" does not match to a Currency.  CorrelationId: ')
    by_id = bc.patch(
        f"customers({customer['id']})", json={"currencyId": str(uuid.uuid4())}, headers={"If-Match": "*"}
    )
    assert by_id.json()["error"]["message"].startswith('The "currencyId" does not match to a Currency.')
    # a field bound to the table goes through its table relation
    salesperson = bc.patch(
        f"customers({customer['id']})", json={"salespersonCode": "ZZ"}, headers={"If-Match": "*"}
    )
    assert salesperson.json()["error"]["code"] == "Internal_InvalidTableRelation"
    assert salesperson.json()["error"]["message"].startswith(
        "The field Salesperson Code of table Customer contains a value (ZZ) that cannot be found in the "
        "related table (Salesperson/Purchaser)."
    )
    missing = str(uuid.uuid4())
    gone = bc.patch(f"customers({missing})", json={"city": "x"}, headers={"If-Match": "*"})
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "BadRequest_NotFound"
    assert gone.json()["error"]["message"].startswith("The Customer does not exist.")
