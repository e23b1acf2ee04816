"""Connector test fixtures: scripted token endpoint, a recording retry policy, and one sandbox per module."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.connectors import BusinessCentralClient, DataverseClient, RetryPolicy, TokenProvider
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from tests.bot.connectors.scripted import CLIENT_ID, CLIENT_SECRET, TOKEN_URL, TokenEndpoint


@pytest.fixture
def token_endpoint() -> TokenEndpoint:
    """A token endpoint that grants every request."""
    return TokenEndpoint()


@pytest.fixture
def tokens(token_endpoint: TokenEndpoint) -> Iterator[TokenProvider]:
    """A TokenProvider signed in at the scripted token endpoint."""
    provider = TokenProvider(
        TOKEN_URL, CLIENT_ID, CLIENT_SECRET, transport=httpx.MockTransport(token_endpoint)
    )
    yield provider
    provider.close()


@pytest.fixture
def sleeps() -> list[float]:
    """The waits a RetryPolicy asked for (nothing really sleeps)."""
    return []


@pytest.fixture
def retry(sleeps: list[float]) -> RetryPolicy:
    """A retry policy that records its waits and takes the longest jitter (deterministic)."""
    return RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=8.0, sleep=sleeps.append, jitter=lambda: 1.0)


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox per test module, on a free loopback port."""
    server = SandboxServer(port=0, records=50, faults=(), seed=7).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The module's sandbox; every fault a test switched on is switched off after it."""
    yield sandbox_server
    sandbox_server.clear_faults()


@pytest.fixture
def sandbox_tokens(sandbox: SandboxServer) -> Iterator[TokenProvider]:
    """A TokenProvider signed in at the sandbox's token endpoint as its registered client."""
    provider = TokenProvider(sandbox.token_url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
    yield provider
    provider.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain loopback HTTP client."""
    with httpx.Client(timeout=5.0) as client:
        yield client


@pytest.fixture
def bc(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider, retry: RetryPolicy
) -> BusinessCentralClient:
    """A Business Central client on the sandbox (company looked up, links to the sandbox web client)."""
    return BusinessCentralClient(
        http, api_url=sandbox.bc_api_url, tokens=sandbox_tokens, web_url=sandbox.bc_web_url, retry=retry
    )


@pytest.fixture
def dv(
    sandbox: SandboxServer, http: httpx.Client, sandbox_tokens: TokenProvider, retry: RetryPolicy
) -> DataverseClient:
    """A Dataverse client on the sandbox."""
    return DataverseClient(http, environment_url=sandbox.dataverse_url, tokens=sandbox_tokens, retry=retry)
