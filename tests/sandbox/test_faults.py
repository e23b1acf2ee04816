"""Every fault answers with the real service's status, code and text, and can be switched at run time."""

from __future__ import annotations

import socket

import httpx
import pytest

from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer, UnknownFault
from tests.sandbox.conftest import BC_SCOPE


def test_missing_privilege_refuses_account_writes_with_0x80040220(
    sandbox: SandboxServer, dv: httpx.Client
) -> None:
    sandbox.set_fault("missing-privilege")
    response = dv.post("accounts", json={"name": "Refused"})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "0x80040220"
    assert error["message"].startswith(
        f"Principal user (Id={sandbox.integration_user_id}, type=8, roleCount=1,"
    )
    assert "is missing prvCreateAccount privilege (Id=" in error["message"]
    assert "on OTC=1 for entity 'account'" in error["message"]
    assert dv.get("accounts", params={"$top": "1"}).status_code == 200
    assert dv.post("contacts", json={"lastname": "Fine"}).status_code == 204


def test_missing_privilege_with_named_privilege_and_entity(sandbox: SandboxServer, dv: httpx.Client) -> None:
    sandbox.set_fault("missing-privilege", privilege="prvReadContact", entity="contact")
    response = dv.get("contacts")
    assert response.status_code == 403
    assert "is missing prvReadContact privilege" in response.json()["error"]["message"]
    assert dv.post("accounts", json={"name": "Allowed"}).status_code == 204


def test_admin_integration_user_adds_system_administrator(sandbox: SandboxServer, dv: httpx.Client) -> None:
    def roles() -> list[str]:
        user = dv.get(
            f"systemusers({sandbox.integration_user_id})",
            params={"$expand": "systemuserroles_association($select=name)"},
        ).json()
        return sorted(role["name"] for role in user["systemuserroles_association"])

    sandbox.set_fault("admin-integration-user")
    assert roles() == ["Business Central Dataverse Integration", "System Administrator"]
    sandbox.clear_faults()
    assert roles() == ["Business Central Dataverse Integration"]


def test_password_change_required_makes_sign_in_fail_with_50055(
    http: httpx.Client, sandbox: SandboxServer, bc: httpx.Client
) -> None:
    sandbox.set_fault("password-change-required")
    assert bc.get("customers").status_code == 401
    response = http.post(
        sandbox.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            "scope": BC_SCOPE,
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_grant"
    assert body["error_codes"] == [50055]
    assert body["error_description"].startswith("AADSTS50055: The password is expired.")


def test_missing_exchange_rate_removes_the_currency_rates(
    sandbox: SandboxServer, bc: httpx.Client, dv: httpx.Client
) -> None:
    dv.post(
        "transactioncurrencies", json={"isocurrencycode": "DKK", "currencyname": "Krone", "exchangerate": 6.9}
    )
    sandbox.set_fault("missing-exchange-rate")
    rates = bc.get("currencyExchangeRates", params={"$filter": "currencyCode eq 'DKK'"}).json()["value"]
    assert rates == []
    assert bc.get("currencies", params={"$filter": "code eq 'DKK'"}).json()["value"]
    assert (
        dv.get("transactioncurrencies", params={"$filter": "isocurrencycode eq 'DKK'"}).json()["value"] == []
    )
    sandbox.clear_faults()
    assert (
        len(bc.get("currencyExchangeRates", params={"$filter": "currencyCode eq 'DKK'"}).json()["value"]) == 2
    )


def test_deleted_coupled_record_deletes_a_matching_account(sandbox: SandboxServer, dv: httpx.Client) -> None:
    sandbox.set_fault("deleted-coupled-record")
    [fault] = sandbox.active_faults()
    assert fault["side"] == "dataverse" and fault["table"] == "accounts"
    assert dv.get(f"accounts({fault['id']})").status_code == 404
    customer_names = {row["displayName"] for row in sandbox.state.bc_rows("customers")}
    assert any(row["name"] in customer_names for row in sandbox.state.dv_rows("accounts"))


def test_deleted_coupled_record_on_the_bc_side(sandbox: SandboxServer, bc: httpx.Client) -> None:
    customer = sandbox.state.bc_rows("customers")[3]
    sandbox.set_fault("deleted-coupled-record", side="bc", table="customers", id=customer["id"])
    assert bc.get(f"customers({customer['id']})").status_code == 404


def test_throttle_answers_429_with_retry_after_on_both_apis(
    sandbox: SandboxServer, bc: httpx.Client, dv: httpx.Client
) -> None:
    sandbox.set_fault("throttle", limit=2, window_seconds=60, retry_after=7)
    assert [dv.get("WhoAmI").status_code for _ in range(3)] == [200, 200, 429]
    refused = dv.get("WhoAmI")
    assert refused.headers["Retry-After"] == "7"
    assert refused.json()["error"] == {
        "code": "0x80072322",
        "message": "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
    }
    assert [bc.get("currencies").status_code for _ in range(3)] == [200, 200, 429]
    bc_refused = bc.get("currencies")
    assert bc_refused.headers["Retry-After"] == "7"
    assert bc_refused.json()["error"]["code"] == "Application_TooManyRequests"
    assert "CorrelationId:" in bc_refused.json()["error"]["message"]
    sandbox.clear_faults()
    assert dv.get("WhoAmI").status_code == 200


def test_server_error_spoils_count_requests_then_switches_off(
    sandbox: SandboxServer, bc: httpx.Client
) -> None:
    sandbox.set_fault("server-error", count=2)
    assert [bc.get("currencies").status_code for _ in range(3)] == [500, 500, 200]
    assert sandbox.active_faults() == []


def test_server_error_503_in_dataverse_shape(sandbox: SandboxServer, dv: httpx.Client) -> None:
    sandbox.set_fault("server-error", count=1, status=503, side="dataverse")
    response = dv.get("WhoAmI")
    assert response.status_code == 503
    assert set(response.json()["error"]) == {"code", "message"}


def test_slow_adds_latency_but_still_answers(sandbox: SandboxServer, bc: httpx.Client) -> None:
    sandbox.set_fault("slow", seconds=0.05)
    assert sandbox.faults.delay("bc") == 0.05
    assert bc.get("currencies").status_code == 200


def test_admin_mode_refuses_every_dataverse_call(
    sandbox: SandboxServer, dv: httpx.Client, bc: httpx.Client
) -> None:
    sandbox.set_fault("admin-mode")
    response = dv.get("WhoAmI")
    assert response.status_code == 403
    assert "access the org when it is in Admin Only mode" in response.json()["error"]["message"]
    assert bc.get("currencies").status_code == 200


def test_faults_over_http_and_at_start(http: httpx.Client, sandbox: SandboxServer) -> None:
    added = http.post(f"{sandbox.url}/_sandbox/faults", json={"fault": "throttle", "limit": 3})
    assert added.status_code == 200
    assert added.json()["faults"][0]["limit"] == 3
    unknown = http.post(f"{sandbox.url}/_sandbox/faults", json={"fault": "meteor-strike"})
    assert unknown.status_code == 400
    assert http.delete(f"{sandbox.url}/_sandbox/faults").json() == {"faults": []}
    started = SandboxServer(records=5, faults=("throttle:limit=1,retry_after=0", "admin-mode"))
    try:
        assert [fault["fault"] for fault in started.active_faults()] == ["throttle", "admin-mode"]
        assert started.active_faults()[0]["limit"] == 1
    finally:
        started.stop()


def test_unknown_fault_parameter_is_refused(sandbox: SandboxServer) -> None:
    with pytest.raises(UnknownFault):
        sandbox.set_fault("throttle", speed=3)


def _privileges(sandbox: SandboxServer, dv: httpx.Client) -> set[str]:
    url = f"systemusers({sandbox.integration_user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
    return {privilege["PrivilegeName"] for privilege in dv.get(url).json()["RolePrivileges"]}


def test_missing_privilege_is_withheld_from_retrieve_user_privileges_as_the_403_says(
    sandbox: SandboxServer, dv: httpx.Client
) -> None:
    everything = _privileges(sandbox, dv)
    account = sandbox.state.dv_rows("accounts")[0]["accountid"]
    sandbox.set_fault("missing-privilege")  # by default every write to accounts is refused
    assert everything - _privileges(sandbox, dv) == {
        "prvCreateAccount",
        "prvWriteAccount",
        "prvDeleteAccount",
    }
    for method, url, privilege in (
        ("POST", "accounts", "prvCreateAccount"),
        ("PATCH", f"accounts({account})", "prvWriteAccount"),
        ("DELETE", f"accounts({account})", "prvDeleteAccount"),
    ):
        response = dv.request(method, url, json={"name": "Refused"} if method != "DELETE" else None)
        assert response.status_code == 403
        assert f"is missing {privilege} privilege" in response.json()["error"]["message"]
    sandbox.set_fault("missing-privilege", privilege="prvCreateTransactionCurrency")
    assert everything - _privileges(sandbox, dv) == {"prvCreateTransactionCurrency"}
    refused = dv.post("transactioncurrencies", json={"isocurrencycode": "XTS", "exchangerate": 1.0})
    assert "is missing prvCreateTransactionCurrency privilege" in refused.json()["error"]["message"]
    sandbox.clear_faults()
    assert _privileges(sandbox, dv) == everything


def test_a_request_cut_off_mid_body_changes_nothing(sandbox: SandboxServer, dv: httpx.Client) -> None:
    """A client killed between its header and body writes: the half-received create is never acted on."""
    before = len(sandbox.state.dv_rows("accounts"))
    token = str(dv.headers["Authorization"])
    host, port = sandbox.url.removeprefix("http://").split(":")
    whole = b'{"name": "Half a body"}'
    body = whole + b" " * 64  # what was received parses on its own; the server must still wait for the rest
    head = (
        f"POST /dataverse/api/data/v9.2/accounts HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head + whole)
        connection.shutdown(socket.SHUT_WR)
        assert connection.recv(4096) == b""  # no answer: the server closed without acting
    assert dv.get("accounts?$select=name").status_code == 200  # and is still serving
    assert len(sandbox.state.dv_rows("accounts")) == before
