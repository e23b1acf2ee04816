"""The engine on the real connectors against a sandbox over HTTP (127.0.0.1 only), without sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy.engine import Engine

from bot.connectors import BusinessCentralClient, DataverseClient, RetryPolicy, TokenProvider
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from bot.sync.engine import SyncEngine


@contextmanager
def live_engine(
    server: SandboxServer,
    engine: Engine,
    *,
    timeout: float = 10.0,
    page_size: int = 5,
    max_retry_after: float = 5.0,
) -> Iterator[SyncEngine]:
    """A SyncEngine on `engine` talking to `server` through the real clients."""
    retry = RetryPolicy(
        max_attempts=2, base_delay=0.0, max_retry_after=max_retry_after, sleep=lambda _s: None
    )
    with httpx.Client(timeout=timeout) as http:
        tokens = TokenProvider(server.token_url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
        bc = BusinessCentralClient(
            http,
            api_url=server.bc_api_url,
            tokens=tokens,
            company_id=server.company_id,
            web_url=server.bc_web_url,
            retry=retry,
        )
        dv = DataverseClient(http, environment_url=server.dataverse_url, tokens=tokens, retry=retry)
        try:
            yield SyncEngine(db=engine, bc=bc, dataverse=dv, channel="C1", page_size=page_size)
        finally:
            tokens.close()
