"""Fixtures: a sandbox on a free loopback port and signed-in httpx clients for each API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer

BC_SCOPE = "https://api.businesscentral.dynamics.com/.default"


def plain_client() -> httpx.Client:
    """An httpx client for loopback HTTP (no TLS, so no certificate store to load)."""
    return httpx.Client(verify=False)


def fetch_token(server: SandboxServer, scope: str) -> str:
    """A client-credentials token from the sandbox's token endpoint."""
    with plain_client() as client:
        response = client.post(
            server.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": SANDBOX_CLIENT_ID,
                "client_secret": SANDBOX_CLIENT_SECRET,
                "scope": scope,
            },
        )
    response.raise_for_status()
    return str(response.json()["access_token"])


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A small sandbox (30 customers) serving on 127.0.0.1 in a daemon thread."""
    server = SandboxServer(host="127.0.0.1", port=0, records=30, seed=7).start()
    yield server
    server.stop()


@pytest.fixture
def bc(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client signed in to Business Central, based at the company's URL."""
    token = fetch_token(sandbox, BC_SCOPE)
    base = f"{sandbox.bc_api_url}/companies({sandbox.company_id})/"
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, verify=False) as client:
        yield client


@pytest.fixture
def dv(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client signed in to Dataverse, based at the Web API root."""
    token = fetch_token(sandbox, f"{sandbox.dataverse_url}/.default")
    base = f"{sandbox.dataverse_url}/api/data/v9.2/"
    headers = {"Authorization": f"Bearer {token}", "OData-Version": "4.0", "Accept": "application/json"}
    with httpx.Client(base_url=base, headers=headers, verify=False) as client:
        yield client


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain client for the token endpoint, control endpoints and web pages."""
    with plain_client() as client:
        yield client
