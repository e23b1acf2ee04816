"""Contract: every sandbox fault becomes the right typed error; retries are honoured and bounded."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from bot.connectors import (
    AuthenticationFailed,
    BatchOperation,
    BusinessCentralClient,
    DataverseClient,
    NotFound,
    PermissionDenied,
    RetryPolicy,
    ServerError,
    Throttled,
    Timeout,
    TokenProvider,
)
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer


def short_waits(sleeps: list[float], *, longest: float = 0.06) -> Callable[[float], None]:
    """Record the wait asked for, but really wait only long enough for the sandbox's short windows."""

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(min(seconds, longest))

    return sleep


def test_missing_privilege(dv: DataverseClient, sandbox: SandboxServer) -> None:
    sandbox.set_fault("missing-privilege", entity="account")
    with pytest.raises(PermissionDenied) as caught:
        dv.create("accounts", {"name": "No Privilege"})
    error = caught.value
    assert (error.status, error.code) == (403, "0x80040220")
    assert (error.privilege, error.entity) == ("prvCreateAccount", "account")
    assert (error.system, error.method) == ("dataverse", "POST")
    assert dv.requests_made == 1


def test_missing_privilege_inside_a_batch(dv: DataverseClient, sandbox: SandboxServer) -> None:
    sandbox.set_fault("missing-privilege", entity="account")
    results = dv.batch(
        [
            BatchOperation("POST", "accounts", ref="a", body={"name": "A"}),
            BatchOperation("POST", "contacts", ref="c", body={"lastname": "C"}),
        ]
    )
    assert isinstance(results[0].error, PermissionDenied)
    assert results[0].error.privilege == "prvCreateAccount"
    assert results[1].ok


def test_admin_integration_user(dv: DataverseClient, sandbox: SandboxServer) -> None:
    sandbox.set_fault("admin-integration-user")
    assert "System Administrator" in dv.get_user(dv.who_am_i().user_id).roles


def test_password_change_required_at_sign_in(sandbox: SandboxServer, http: httpx.Client) -> None:
    sandbox.set_fault("password-change-required")
    tokens = TokenProvider(sandbox.token_url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
    client = BusinessCentralClient(http, api_url=sandbox.bc_api_url, tokens=tokens)
    with pytest.raises(AuthenticationFailed) as caught:
        client.companies()
    error = caught.value
    assert (error.aadsts, error.code, error.system) == ("AADSTS50055", "invalid_grant", "auth")
    assert error.message.startswith("AADSTS50055: The password is expired.")
    assert SANDBOX_CLIENT_SECRET not in f"{error} {error!r} {error.body!r} {error.url}"
    assert client.requests_made == 0


def test_password_change_required_with_a_cached_token(dv: DataverseClient, sandbox: SandboxServer) -> None:
    dv.who_am_i()
    sandbox.set_fault("password-change-required")  # revokes every issued token
    with pytest.raises(AuthenticationFailed) as caught:
        dv.who_am_i()
    assert caught.value.aadsts == "AADSTS50055"
    assert dv.requests_made == 2  # the refused call, then no second API call without a token


def test_wrong_secret(sandbox: SandboxServer, http: httpx.Client) -> None:
    tokens = TokenProvider(sandbox.token_url, SANDBOX_CLIENT_ID, "wrong")
    with pytest.raises(AuthenticationFailed) as caught:
        DataverseClient(http, environment_url=sandbox.dataverse_url, tokens=tokens).who_am_i()
    assert caught.value.aadsts == "AADSTS7000215"


def test_missing_exchange_rate(
    bc: BusinessCentralClient, dv: DataverseClient, sandbox: SandboxServer
) -> None:
    assert bc.find("currencyExchangeRates", "currencyCode", "DKK")
    sandbox.set_fault("missing-exchange-rate", currency="DKK")
    assert bc.find("currencies", "code", "DKK")
    assert bc.find("currencyExchangeRates", "currencyCode", "DKK") == []
    assert dv.find("transactioncurrencies", "isocurrencycode", "DKK") == []


def test_deleted_coupled_record(dv: DataverseClient, sandbox: SandboxServer) -> None:
    sandbox.set_fault("deleted-coupled-record", side="dataverse", table="accounts")
    (fault,) = sandbox.active_faults()
    with pytest.raises(NotFound) as caught:
        dv.get("accounts", str(fault["id"]))
    assert caught.value.status == 404


def test_throttle_honours_retry_after(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider
) -> None:
    sleeps: list[float] = []
    # A window long enough that the second call lands in it even on a busy machine; the retry waits it out.
    retry = RetryPolicy(max_attempts=4, sleep=short_waits(sleeps, longest=1.1))
    client = BusinessCentralClient(http, api_url=sandbox.bc_api_url, tokens=sandbox_tokens, retry=retry)
    sandbox.set_fault("throttle", limit=1, window_seconds=1.0, retry_after=2, side="bc")
    client.companies()
    client.companies()
    assert sleeps == [2.0]
    assert client.requests_made == 3


def test_throttle_is_raised_when_retries_run_out(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider
) -> None:
    sleeps: list[float] = []
    retry = RetryPolicy(max_attempts=3, sleep=sleeps.append)
    client = DataverseClient(http, environment_url=sandbox.dataverse_url, tokens=sandbox_tokens, retry=retry)
    sandbox.set_fault("throttle", limit=0, window_seconds=60, retry_after=7, side="dataverse")
    with pytest.raises(Throttled) as caught:
        client.who_am_i()
    assert (caught.value.status, caught.value.code, caught.value.retry_after) == (429, "0x80072322", 7.0)
    assert sleeps == [7.0, 7.0]
    assert client.requests_made == 3


def test_server_errors_are_retried_with_backoff(
    dv: DataverseClient, sandbox: SandboxServer, sleeps: list[float]
) -> None:
    sandbox.set_fault("server-error", count=2, status=503, side="dataverse")
    assert dv.who_am_i().user_id == sandbox.integration_user_id
    assert sleeps == [1.0, 2.0]
    assert dv.requests_made == 3


def test_server_errors_beyond_the_retries_are_raised(
    bc: BusinessCentralClient, sandbox: SandboxServer
) -> None:
    sandbox.set_fault("server-error", count=10, status=500, side="bc")
    with pytest.raises(ServerError) as caught:
        bc.companies()
    assert (caught.value.status, caught.value.code) == (500, "Internal_ServerError")
    assert bc.requests_made == 3


def test_a_create_answered_with_5xx_is_not_repeated(dv: DataverseClient, sandbox: SandboxServer) -> None:
    dv.who_am_i()
    sandbox.set_fault("server-error", count=1, status=500, side="dataverse")
    with pytest.raises(ServerError):
        dv.create("accounts", {"name": "Maybe Created"})
    assert dv.requests_made == 2


def test_slow_answers_time_out_after_bounded_retries(
    sandbox: SandboxServer, sandbox_tokens: TokenProvider, sleeps: list[float]
) -> None:
    retry = RetryPolicy(max_attempts=2, sleep=sleeps.append)
    sandbox_tokens.access_token(f"{sandbox.dataverse_url}/.default")
    with httpx.Client(timeout=httpx.Timeout(0.05)) as impatient:
        client = DataverseClient(
            impatient, environment_url=sandbox.dataverse_url, tokens=sandbox_tokens, retry=retry
        )
        sandbox.set_fault("slow", seconds=0.3, side="dataverse")
        with pytest.raises(Timeout) as caught:
            client.who_am_i()
    assert caught.value.system == "dataverse"
    assert client.requests_made == 2
    assert len(sleeps) == 1


def test_admin_mode(dv: DataverseClient, sandbox: SandboxServer) -> None:
    sandbox.set_fault("admin-mode")
    with pytest.raises(PermissionDenied) as caught:
        dv.who_am_i()
    assert caught.value.status == 403
    assert "Admin Only mode" in caught.value.message
    assert caught.value.privilege is None
