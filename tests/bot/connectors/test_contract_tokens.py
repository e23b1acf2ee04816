"""Contract: tokens from the sandbox's token endpoint are cached per scope and refreshed before expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from bot.connectors import BusinessCentralClient, DataverseClient
from bot.sandbox import SandboxServer


def test_one_token_per_scope_is_cached(
    bc: BusinessCentralClient, dv: DataverseClient, sandbox: SandboxServer
) -> None:
    before = sandbox.request_count("/token")
    for _ in range(3):
        bc.companies()
        dv.who_am_i()
    assert sandbox.request_count("/token") - before == 2


def test_token_is_refreshed_before_it_expires(bc: BusinessCentralClient, sandbox: SandboxServer) -> None:
    with time_machine.travel(datetime.now(UTC), tick=True) as traveller:
        bc.companies()
        before = sandbox.request_count("/token")
        traveller.shift(timedelta(seconds=3599 - 30))  # inside the 60 s leeway, still valid at the sandbox
        bc.companies()
        assert sandbox.request_count("/token") - before == 1
        traveller.shift(timedelta(hours=2))  # long expired: a fresh token, no 401 round trip
        bc.companies()
        assert sandbox.request_count("/token") - before == 2
    assert bc.requests_made == 3
