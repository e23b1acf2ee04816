"""The token endpoint and the bearer-token check of both APIs."""

from __future__ import annotations

import base64
from datetime import timedelta

import httpx
import time_machine

from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT, SandboxServer
from tests.sandbox.conftest import BC_SCOPE, fetch_token


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "scope": BC_SCOPE,
    }
    form.update(overrides)
    return form


def test_client_credentials_grant_returns_a_bearer_token(http: httpx.Client, sandbox: SandboxServer) -> None:
    response = http.post(sandbox.token_url, data=_form())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert body["access_token"].count(".") == 2


def test_client_secret_basic_is_accepted(http: httpx.Client, sandbox: SandboxServer) -> None:
    form = _form()
    del form["client_id"], form["client_secret"]
    basic = base64.b64encode(f"{SANDBOX_CLIENT_ID}:{SANDBOX_CLIENT_SECRET}".encode()).decode()
    response = http.post(sandbox.token_url, data=form, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200


def test_wrong_secret_is_invalid_client_7000215(http: httpx.Client, sandbox: SandboxServer) -> None:
    response = http.post(sandbox.token_url, data=_form(client_secret="nope"))
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert {"trace_id", "correlation_id", "timestamp"} <= set(body)


def test_unknown_client_is_700016(http: httpx.Client, sandbox: SandboxServer) -> None:
    response = http.post(sandbox.token_url, data=_form(client_id="11111111-2222-3333-4444-555555555555"))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert response.json()["error_codes"] == [700016]
    assert "AADSTS700016: Application with identifier" in response.json()["error_description"]


def test_scope_without_default_suffix_is_refused(http: httpx.Client, sandbox: SandboxServer) -> None:
    response = http.post(sandbox.token_url, data=_form(scope="https://api.businesscentral.dynamics.com"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_unknown_tenant_is_refused(http: httpx.Client, sandbox: SandboxServer) -> None:
    url = sandbox.token_url.replace(SANDBOX_TENANT, "contoso.onmicrosoft.com")
    response = http.post(url, data=_form())
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_apis_answer_401_without_a_token_in_their_own_shapes(
    http: httpx.Client, sandbox: SandboxServer
) -> None:
    bc = http.get(f"{sandbox.bc_api_url}/companies")
    assert bc.status_code == 401
    assert bc.json()["error"]["code"] == "Authentication_InvalidCredentials"
    assert "CorrelationId:" in bc.json()["error"]["message"]
    assert bc.headers["WWW-Authenticate"].startswith("Bearer")
    dv = http.get(f"{sandbox.dataverse_url}/api/data/v9.2/WhoAmI")
    assert dv.status_code == 401
    assert set(dv.json()["error"]) == {"code", "message"}


def test_unknown_token_and_token_for_the_other_api_are_refused(
    http: httpx.Client, sandbox: SandboxServer
) -> None:
    headers = {"Authorization": "Bearer not-a-token"}
    assert http.get(f"{sandbox.bc_api_url}/companies", headers=headers).status_code == 401
    bc_token = fetch_token(sandbox, BC_SCOPE)
    response = http.get(
        f"{sandbox.dataverse_url}/api/data/v9.2/WhoAmI", headers={"Authorization": f"Bearer {bc_token}"}
    )
    assert response.status_code == 401


def test_expired_token_is_refused(http: httpx.Client, sandbox: SandboxServer) -> None:
    token = fetch_token(sandbox, BC_SCOPE)
    headers = {"Authorization": f"Bearer {token}"}
    assert http.get(f"{sandbox.bc_api_url}/companies", headers=headers).status_code == 200
    with time_machine.travel(timedelta(hours=2)):
        assert http.get(f"{sandbox.bc_api_url}/companies", headers=headers).status_code == 401
