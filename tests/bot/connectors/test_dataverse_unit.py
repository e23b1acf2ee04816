"""DataverseClient over a scripted API: queries, headers, identity, multipart `$batch`, links."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx
import pytest

from bot.connectors import (
    BatchOperation,
    ConnectorError,
    DataverseClient,
    KeyedBusinessApp,
    NotFound,
    PermissionDenied,
    RetryPolicy,
    TokenProvider,
)
from bot.connectors.dataverse import new_record_id
from bot.connectors.multipart import PartRequest, decode_batch
from tests.bot.connectors.scripted import DATAVERSE_URL, ScriptedApi, json_response, odata_error

API = DATAVERSE_URL + "/api/data/v9.2"
ACCOUNT = {
    "@odata.etag": 'W/"4711"',
    "accountid": "a0000000-0000-0000-0000-000000000001",
    "name": "Adatum Corporation",
    "modifiedon": "2026-01-02T03:04:05Z",
    "_modifiedby_value": "u0000000-0000-0000-0000-000000000009",
    "_modifiedby_value@OData.Community.Display.V1.FormattedValue": "# Business Central Integration",
}
USER = {
    "systemuserid": "u0000000-0000-0000-0000-000000000009",
    "fullname": "# Business Central Integration",
    "accessmode": 4,
    "isdisabled": False,
    "applicationid": "11111111-2222-3333-4444-555555555555",
    "systemuserroles_association": [
        {"name": "Business Central Dataverse Integration", "roleid": "r1"},
        {"name": "System Administrator", "roleid": "r2"},
    ],
}
PRIVILEGES = {
    "@odata.context": f"{API}/$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse",
    "RolePrivileges": [
        {"Depth": "Global", "PrivilegeId": "p1", "BusinessUnitId": "b1", "PrivilegeName": "prvReadAccount"},
        {"Depth": "Global", "PrivilegeId": "p2", "BusinessUnitId": "b1", "PrivilegeName": "prvCreateAccount"},
        {"Depth": "Basic", "PrivilegeId": "p1", "BusinessUnitId": "b2", "PrivilegeName": "prvReadAccount"},
        {"Depth": "Global", "PrivilegeId": "p3", "BusinessUnitId": "b1"},
    ],
}
PRIVILEGE = (
    "Principal user (Id=u9, type=8), is missing prvWriteAccount privilege on OTC=1 for entity 'account'."
)


def part_answer(status: int, reason: str, body: Mapping[str, object] | None = None) -> bytes:
    lines = [
        b"--batchresponse_1",
        b"Content-Type: application/http",
        b"Content-Transfer-Encoding: binary",
        b"",
    ]
    lines.append(f"HTTP/1.1 {status} {reason}".encode())
    if body is not None:
        lines += [b"Content-Type: application/json; odata.metadata=minimal", b"", json.dumps(body).encode()]
    else:
        lines += [b"", b""]
    return b"\r\n".join(lines) + b"\r\n"


def batch_answer(request: httpx.Request) -> httpx.Response:
    parts = decode_requests(request)
    content = b""
    for method, body in parts:
        if body and body.get("name") == "":
            error = {"error": {"code": "0x80040220", "message": PRIVILEGE}}
            content += part_answer(403, "Forbidden", error)
        elif method == "DELETE":
            content += part_answer(204, "No Content")
        else:
            content += part_answer(201 if method == "POST" else 200, "OK", {**ACCOUNT, **(body or {})})
    content += b"--batchresponse_1--\r\n"
    return httpx.Response(
        200, content=content, headers={"Content-Type": "multipart/mixed; boundary=batchresponse_1"}
    )


def decode_requests(request: httpx.Request) -> list[tuple[str, dict[str, object] | None]]:
    """Read a multipart request with the same decoder (its parts look like answers with a request line)."""
    content = request.content.replace(b" HTTP/1.1\r\n", b"\r\n")
    parsed: list[tuple[str, dict[str, object] | None]] = []
    boundary = request.headers["Content-Type"].split("boundary=")[1].strip('"')
    for raw in content.split(f"--{boundary}".encode())[1:-1]:
        _, _, http_part = raw.partition(b"\r\n\r\n")
        request_line, _, rest = http_part.partition(b"\r\n")
        _, _, body = rest.partition(b"\r\n\r\n")
        method = request_line.split(b" ")[0].decode()
        parsed.append((method, json.loads(body) if body.strip() else None))
    return parsed


def dataverse_answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/$batch"):
        return batch_answer(request)
    if path.endswith("/WhoAmI"):
        return json_response(
            200, {"UserId": USER["systemuserid"], "BusinessUnitId": "b1", "OrganizationId": "o1"}
        )
    if path.endswith("/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"):
        return json_response(200, PRIVILEGES)
    if "systemusers" in path:
        if path.endswith(")"):
            return json_response(200, USER)
        if "00000000-0000-0000-0000-000000000000" in request.url.query.decode():
            return json_response(200, {"value": []})
        return json_response(200, {"value": [USER]})
    if path.endswith("(missing)"):
        return odata_error(404, "0x80040217", "account With Id = missing Does Not Exist")
    if request.method == "POST":
        if path.endswith("/contacts"):  # as if the service ignored return=representation
            return httpx.Response(204, headers={"OData-EntityId": f"{API}/contacts({ACCOUNT['accountid']})"})
        return json_response(201, {**ACCOUNT, **json.loads(request.content)})
    if request.method == "PATCH":
        return json_response(200, {**ACCOUNT, **json.loads(request.content)})
    if request.method == "DELETE":
        return httpx.Response(204)
    if path.endswith(")"):
        return json_response(200, ACCOUNT)
    return json_response(200, {"value": [ACCOUNT]})


@pytest.fixture
def api() -> ScriptedApi:
    return ScriptedApi(dataverse_answer)


@pytest.fixture
def client(api: ScriptedApi, tokens: TokenProvider, retry: RetryPolicy) -> DataverseClient:
    return DataverseClient(api.client(), environment_url=DATAVERSE_URL + "/", tokens=tokens, retry=retry)


def test_is_a_record_store(client: DataverseClient) -> None:
    store: KeyedBusinessApp = client
    assert store.system == "dataverse"
    assert client.BATCH_LIMIT == 1000


def test_common_headers(client: DataverseClient, api: ScriptedApi) -> None:
    client.get("accounts", ACCOUNT["accountid"])
    headers = api.requests[-1].headers
    assert (headers["OData-Version"], headers["OData-MaxVersion"], headers["Accept"]) == (
        "4.0",
        "4.0",
        "application/json",
    )
    assert headers["If-None-Match"] == "null"
    assert headers["Authorization"] == "Bearer token-1"


def test_iter_changed_query_and_records(client: DataverseClient, api: ScriptedApi) -> None:
    since = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    pages = list(client.iter_changed("accounts", since=since, select=["name"], page_size=5000))
    request = api.requests[-1]
    assert request.url.path == "/api/data/v9.2/accounts"
    assert request.url.query.decode() == (
        "$filter=modifiedon%20gt%202026-01-01T09:30:00Z&$select=accountid,modifiedon,_modifiedby_value,name"
    )
    assert request.headers["Prefer"] == "odata.maxpagesize=5000"
    record = pages[0][0]
    assert (record.id, record.etag, record.modified_by) == (
        ACCOUNT["accountid"],
        'W/"4711"',
        "u0000000-0000-0000-0000-000000000009",
    )
    assert record.modified_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert set(record.fields) == {"accountid", "name", "modifiedon", "_modifiedby_value"}


def test_id_fields_of_each_table(client: DataverseClient, api: ScriptedApi) -> None:
    for table, key in [
        ("transactioncurrencies", "transactioncurrencyid"),
        ("systemusers", "systemuserid"),
        ("products", "productid"),
        ("contacts", "contactid"),
    ]:
        list(client.iter_changed(table, select=[]))
        assert api.requests[-1].url.query.decode().startswith(f"$select={key},modifiedon")


def test_get_missing_row_is_not_found(client: DataverseClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.get("accounts", "missing")
    assert caught.value.code == "0x80040217"


def test_create_asks_for_the_row_back(client: DataverseClient, api: ScriptedApi) -> None:
    body = {"name": "New", "transactioncurrencyid@odata.bind": "/transactioncurrencies(t1)"}
    record = client.create("accounts", body)
    request = api.requests[-1]
    assert request.headers["Prefer"] == "return=representation"
    assert json.loads(request.content) == body
    assert record.fields["name"] == "New"
    assert "transactioncurrencyid@odata.bind" not in record.fields


def test_update_always_sends_if_match(client: DataverseClient, api: ScriptedApi) -> None:
    client.update("accounts", "a1", {"name": "B"}, etag=None)
    assert api.requests[-1].headers["If-Match"] == "*"
    client.update("accounts", "a1", {"name": "B"}, etag='W/"9"')
    assert api.requests[-1].headers["If-Match"] == 'W/"9"'
    assert api.requests[-1].url.path == "/api/data/v9.2/accounts(a1)"


def test_created_without_body_is_read_back(client: DataverseClient, api: ScriptedApi) -> None:
    client.create("contacts", {"lastname": "X"})
    assert [request.method for request in api.requests] == ["POST", "GET"]
    assert api.requests[-1].url.path == f"/api/data/v9.2/contacts({ACCOUNT['accountid']})"


def test_identity(client: DataverseClient, api: ScriptedApi) -> None:
    me = client.who_am_i()
    assert (me.user_id, me.business_unit_id, me.organization_id) == (USER["systemuserid"], "b1", "o1")
    user = client.get_user(me.user_id)
    assert api.requests[-1].url.query.decode() == (
        "$select=systemuserid,fullname,accessmode,isdisabled,applicationid"
        "&$expand=systemuserroles_association($select=name,roleid)"
    )
    assert user.roles == ["Business Central Dataverse Integration", "System Administrator"]
    assert (user.access_mode, user.is_disabled, user.fullname) == (4, False, "# Business Central Integration")
    app_user = client.find_application_user("11111111-2222-3333-4444-555555555555")
    assert app_user is not None and app_user.application_id == "11111111-2222-3333-4444-555555555555"
    assert (
        "$filter=applicationid%20eq%2011111111-2222-3333-4444-555555555555"
        in api.requests[-1].url.query.decode()
    )
    assert client.find_application_user("00000000-0000-0000-0000-000000000000") is None


def test_user_privileges(client: DataverseClient, api: ScriptedApi) -> None:
    # Duplicates (one privilege through two roles) collapse; entries without a name are skipped.
    assert client.user_privileges(str(USER["systemuserid"])) == ["prvReadAccount", "prvCreateAccount"]
    request = api.requests[-1]
    assert request.method == "GET"
    assert request.url.path == (
        f"/api/data/v9.2/systemusers({USER['systemuserid']})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
    )
    assert request.headers["If-None-Match"] == "null"


def test_batch_runs_independent_requests_and_continues_on_error(
    client: DataverseClient, api: ScriptedApi
) -> None:
    results = client.batch(
        [
            BatchOperation("POST", "accounts", ref="new", body={"name": "A"}),
            BatchOperation("PATCH", "accounts", ref="bad", id="a2", body={"name": ""}, etag='W/"3"'),
            BatchOperation("DELETE", "accounts", ref="gone", id="a3"),
        ]
    )
    request = api.requests[-1]
    assert request.url.path == "/api/data/v9.2/$batch"
    assert request.headers["Prefer"] == "odata.continue-on-error"
    assert request.headers["Content-Type"].startswith('multipart/mixed; boundary="batch_')
    assert b"changeset" not in request.content
    assert f"PATCH {API}/accounts(a2) HTTP/1.1".encode() in request.content
    assert b'If-Match: W/"3"' in request.content
    assert [(result.ref, result.status, result.ok) for result in results] == [
        ("new", 201, True),
        ("bad", 403, False),
        ("gone", 204, True),
    ]
    assert results[0].record is not None and results[0].record.fields["name"] == "A"
    error = results[1].error
    assert isinstance(error, PermissionDenied)
    assert (error.privilege, error.entity, error.method) == ("prvWriteAccount", "account", "PATCH")
    assert error.url == f"{API}/accounts(a2)"


def test_batch_is_split_into_even_sub_batches_of_at_most_100(client: DataverseClient) -> None:
    operations = [BatchOperation("DELETE", "accounts", ref=str(n), id=str(n)) for n in range(1001)]
    results = client.batch(operations)
    assert len(results) == 1001 and all(result.ok for result in results)
    assert [result.ref for result in results] == [str(n) for n in range(1001)]
    assert client.requests_made == 16  # two full waves of 8 (63 each), not 10 × 100 + 1


def test_operations_the_batch_did_not_answer(tokens: TokenProvider) -> None:
    def short(_request: httpx.Request) -> httpx.Response:
        answer = part_answer(204, "No Content") + b"--batchresponse_1--\r\n"
        return httpx.Response(
            200, content=answer, headers={"Content-Type": "multipart/mixed; boundary=batchresponse_1"}
        )

    client = DataverseClient(ScriptedApi(short).client(), environment_url=DATAVERSE_URL, tokens=tokens)
    results = client.batch([BatchOperation("DELETE", "accounts", ref=r, id=r) for r in ("a", "b")])
    assert results[0].ok
    assert type(results[1].error) is ConnectorError
    assert results[1].status == 0


def test_record_url(client: DataverseClient) -> None:
    record = client.get("accounts", ACCOUNT["accountid"])
    assert client.record_url("accounts", record) == (
        f"{DATAVERSE_URL}/main.aspx?pagetype=entityrecord&etn=account&id={ACCOUNT['accountid']}"
    )
    assert client.record_url("transactioncurrencies", record_id="t1") == (
        f"{DATAVERSE_URL}/main.aspx?pagetype=entityrecord&etn=transactioncurrency&id=t1"
    )
    assert client.record_url("accounts") is None


def test_multipart_helpers_are_consistent() -> None:
    assert PartRequest("GET", "u").headers == {}
    assert decode_batch("multipart/mixed; boundary=x", b"--x--\r\n") == []


def test_a_create_with_a_chosen_id_posts_to_the_collection_with_the_id_in_its_body(
    api: ScriptedApi, client: DataverseClient
) -> None:
    chosen = new_record_id()
    results = client.batch([BatchOperation("POST", "accounts", ref="a", id=chosen, body={"name": "A"})])
    sent = api.requests[-1].content.decode()
    assert f"POST {API}/accounts HTTP/1.1" in sent
    assert decode_requests(api.requests[-1])[0] == ("POST", {"accountid": chosen, "name": "A"})
    assert results[0].ok
    record = client.create("accounts", {"name": "B"}, record_id=chosen)
    assert api.body() == {"accountid": chosen, "name": "B"} and record.fields["name"] == "B"


def test_get_many_asks_for_every_id_in_one_filter_per_hundred(tokens: TokenProvider) -> None:
    api = ScriptedApi(dataverse_answer)
    client = DataverseClient(
        api.client(), environment_url=DATAVERSE_URL, tokens=tokens, columns={"accounts": ["name"]}
    )
    ids = [new_record_id() for _ in range(150)]
    client.get_many("accounts", ids)
    assert len(api.requests) == 2
    first = api.requests[0].url.params
    assert first["$filter"] == " or ".join(f"accountid eq {value}" for value in ids[:100])
    assert first["$select"] == "accountid,modifiedon,_modifiedby_value,name"


def test_collection_reads_select_the_configured_columns_and_usable_users_only(tokens: TokenProvider) -> None:
    api = ScriptedApi(dataverse_answer)
    client = DataverseClient(
        api.client(),
        environment_url=DATAVERSE_URL,
        tokens=tokens,
        columns={"accounts": ["name", "statecode"]},
    )
    list(client.iter_changed("accounts"))
    assert api.requests[-1].url.params["$select"] == "accountid,modifiedon,_modifiedby_value,name,statecode"
    list(client.iter_changed("systemusers", since=datetime(2024, 1, 1, tzinfo=UTC)))
    params = api.requests[-1].url.params
    assert params["$filter"] == (
        "isdisabled eq false and islicensed eq true and applicationid eq null and accessmode ne 4"
        " and modifiedon gt 2024-01-01T00:00:00Z"
    )
    assert "internalemailaddress" in params["$select"] and "islicensed" in params["$select"]
    list(client.iter_changed("systemusers", select=[]))  # an id-only scan sees every user
    assert "$filter" not in api.requests[-1].url.params
