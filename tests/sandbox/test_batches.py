"""Both `$batch` formats: Business Central's JSON batch and Dataverse's multipart batch with change sets."""

from __future__ import annotations

import json
import re

import httpx

from bot.sandbox import SandboxServer


def _bc_patch(
    sandbox: SandboxServer, customer_id: str, body: dict[str, object], op_id: str
) -> dict[str, object]:
    return {
        "id": op_id,
        "method": "PATCH",
        "url": f"companies({sandbox.company_id})/customers({customer_id})",
        "headers": {"Content-Type": "application/json", "If-Match": "*"},
        "body": body,
    }


def _batch_url(sandbox: SandboxServer) -> str:
    return f"{sandbox.bc_api_url}/$batch"


def test_bc_json_batch_runs_each_operation(sandbox: SandboxServer, bc: httpx.Client) -> None:
    customers = bc.get("customers", params={"$top": "2"}).json()["value"]
    requests = [_bc_patch(sandbox, row["id"], {"city": "Brno"}, str(i)) for i, row in enumerate(customers)]
    requests.append(
        {
            "id": "new",
            "method": "POST",
            "url": f"companies({sandbox.company_id})/customers",
            "headers": {"Content-Type": "application/json"},
            "body": {"displayName": "Batch Ltd."},
        }
    )
    response = bc.post(_batch_url(sandbox), json={"requests": requests})
    assert response.status_code == 200
    answers = {item["id"]: item for item in response.json()["responses"]}
    assert [answers[key]["status"] for key in ("0", "1", "new")] == [200, 200, 201]
    assert answers["new"]["body"]["number"] == "310000"
    assert all(row["city"] == "Brno" for row in (bc.get(f"customers({c['id']})").json() for c in customers))


def test_bc_batch_reports_partial_failure(sandbox: SandboxServer, bc: httpx.Client) -> None:
    customer = bc.get("customers", params={"$top": "1"}).json()["value"][0]
    requests = [
        _bc_patch(sandbox, customer["id"], {"currencyCode": "XYZ"}, "bad"),
        _bc_patch(sandbox, customer["id"], {"city": "Aarhus"}, "good"),
    ]
    answers = {
        item["id"]: item
        for item in bc.post(_batch_url(sandbox), json={"requests": requests}).json()["responses"]
    }
    assert answers["bad"]["status"] == 400
    assert answers["bad"]["body"]["error"]["code"] == "Application_DialogException"
    assert answers["good"]["status"] == 200
    assert bc.get(f"customers({customer['id']})").json()["city"] == "Aarhus"


def test_bc_batch_with_snapshot_isolation_rolls_back(sandbox: SandboxServer, bc: httpx.Client) -> None:
    customer = bc.get("customers", params={"$top": "1"}).json()["value"][0]
    requests = [
        _bc_patch(sandbox, customer["id"], {"city": "Aarhus"}, "good"),
        _bc_patch(sandbox, customer["id"], {"currencyCode": "XYZ"}, "bad"),
    ]
    response = bc.post(_batch_url(sandbox), json={"requests": requests}, headers={"Isolation": "snapshot"})
    statuses = {item["id"]: item["status"] for item in response.json()["responses"]}
    assert statuses == {"good": 424, "bad": 400}
    assert bc.get(f"customers({customer['id']})").json()["city"] == customer["city"]


def test_bc_batch_limit_is_100_operations(sandbox: SandboxServer, bc: httpx.Client) -> None:
    customer = bc.get("customers", params={"$top": "1"}).json()["value"][0]
    requests = [_bc_patch(sandbox, customer["id"], {"city": "X"}, str(i)) for i in range(101)]
    response = bc.post(_batch_url(sandbox), json={"requests": requests})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    assert "100" in response.json()["error"]["message"]


def _http_part(
    method: str, url: str, body: dict[str, object] | None = None, content_id: str | None = None
) -> str:
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id is not None:
        head += f"Content-ID: {content_id}\r\n"
    request = f"{method} {url} HTTP/1.1\r\n"
    if body is not None:
        request += "Content-Type: application/json\r\n\r\n" + json.dumps(body)
    else:
        request += "\r\n"
    return head + "\r\n" + request + "\r\n"


def _multipart(boundary: str, parts: list[str]) -> str:
    return "".join(f"--{boundary}\r\n{part}" for part in parts) + f"--{boundary}--\r\n"


def _change_set(parts: list[str]) -> str:
    return "Content-Type: multipart/mixed; boundary=changeset_1\r\n\r\n" + _multipart("changeset_1", parts)


def _post_batch(dv: httpx.Client, parts: list[str], prefer: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "multipart/mixed; boundary=batch_1"}
    if prefer:
        headers["Prefer"] = prefer
    return dv.post("$batch", content=_multipart("batch_1", parts).encode(), headers=headers)


def _statuses(response: httpx.Response) -> list[int]:
    return [int(code) for code in re.findall(r"HTTP/1\.1 (\d{3})", response.text)]


def test_dv_batch_with_change_set_and_content_id_reference(sandbox: SandboxServer, dv: httpx.Client) -> None:
    change_set = _change_set(
        [
            _http_part("POST", "/api/data/v9.2/accounts", {"name": "Batch Parent"}, content_id="1"),
            _http_part(
                "POST",
                f"{sandbox.dataverse_url}/api/data/v9.2/contacts",
                {"lastname": "Child", "parentcustomerid_account@odata.bind": "$1"},
                content_id="2",
            ),
        ]
    )
    response = _post_batch(dv, [change_set, _http_part("GET", "accounts?$select=name&$top=1")])
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("multipart/mixed; boundary=batchresponse_")
    assert _statuses(response) == [204, 204, 200]
    parent = dv.get("accounts", params={"$filter": "name eq 'Batch Parent'"}).json()["value"][0]
    child = dv.get("contacts", params={"$filter": "lastname eq 'Child'"}).json()["value"][0]
    assert child["_parentcustomerid_value"] == parent["accountid"]


def test_dv_change_set_is_atomic_and_batch_stops_at_first_failure(dv: httpx.Client) -> None:
    failing_set = _change_set(
        [
            _http_part("POST", "accounts", {"name": "Rolled Back"}),
            _http_part("POST", "transactioncurrencies", {"isocurrencycode": "GBP"}),
        ]
    )
    after = _http_part("POST", "accounts", {"name": "Never Runs"})
    response = _post_batch(dv, [failing_set, after])
    assert response.status_code == 200
    assert _statuses(response) == [400]
    assert "Exchange rate" in response.text
    for name in ("Rolled Back", "Never Runs"):
        assert dv.get("accounts", params={"$filter": f"name eq '{name}'"}).json()["value"] == []


def test_dv_continue_on_error_runs_the_rest(dv: httpx.Client) -> None:
    parts = [
        _http_part("POST", "accounts", {"name": "First"}),
        _http_part("PATCH", "accounts(00000000-0000-0000-0000-0000000000bb)", {"name": "x"}),
        _http_part("POST", "accounts", {"name": "Third"}),
    ]
    parts[1] = parts[1].replace("HTTP/1.1\r\n", "HTTP/1.1\r\nIf-Match: *\r\n", 1)
    response = _post_batch(dv, parts, prefer="odata.continue-on-error")
    assert _statuses(response) == [204, 404, 204]
    assert dv.get("accounts", params={"$filter": "name eq 'Third'"}).json()["value"]


def test_dv_batch_limit_is_1000_requests(dv: httpx.Client) -> None:
    parts = [_http_part("GET", "WhoAmI") for _ in range(1001)]
    response = _post_batch(dv, parts)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "0x80060888"
    assert "'1000'" in response.json()["error"]["message"]


def test_dv_batch_without_boundary_is_refused(dv: httpx.Client) -> None:
    response = dv.post("$batch", content=b"x", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message"}
