"""Clicks acked, then `serve` SIGKILLed: every acked click runs exactly once (or fails with a message)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from bot.services import build_services
from bot.sync.mappings import seed_default_mappings
from storage.db import session_scope
from storage.models import AuditEntry, Category, ErrorStatus, SyncError, WorkItem, WorkStatus
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_payloads import block_actions_body, signed_headers
from tests.faults.conftest import SECRET, USER, Serve, environment, wait_until

pytestmark = pytest.mark.slow


def permission_errors(database_url: str, engine: Engine, sandbox: SandboxServer) -> list[int]:
    """A full sync while the integration user lacks prvCreateAccount: one open error per new customer."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        bc_api_url=sandbox.bc_api_url,
        dataverse_url=sandbox.dataverse_url,
        auth_token_url=sandbox.token_url,
        azure_client_id=SANDBOX_CLIENT_ID,
        azure_client_secret=SANDBOX_CLIENT_SECRET,
    )
    services = build_services(settings, db=engine)
    with session_scope(engine) as session:
        seed_default_mappings(session)
    sandbox.set_fault("missing-privilege")
    services.sync_engine().run(full=True)  # every mapping: no catch-up sync is due when serve starts
    sandbox.clear_faults()
    with Session(engine) as session:
        errors = session.exec(
            select(SyncError).where(SyncError.category == Category.PERMISSIONS).order_by(col(SyncError.id))
        ).all()
    ids = [error.id for error in errors if error.id is not None]
    assert len(ids) >= 10
    return ids


def _click(base: str, slack: FakeSlack, error_id: int) -> int:
    body = block_actions_body(
        "resync", str(error_id), user_id=USER, response_url=slack.response_url(f"click{error_id}")
    )
    try:
        response = httpx.post(
            f"{base}/slack/events", content=body.encode(), headers=signed_headers(body, SECRET), timeout=10
        )
    except httpx.HTTPError:
        return 0
    return response.status_code


@pytest.mark.parametrize("kill_after", [0.0, 2.5], ids=["right-after-the-acks", "while-the-worker-runs"])
def test_every_acked_click_runs_exactly_once_across_a_sigkill(
    database_url: str,
    engine: Engine,
    sandbox: SandboxServer,
    slack: FakeSlack,
    serve_factory: Callable[..., Serve],
    kill_after: float,
) -> None:
    error_ids = permission_errors(database_url, engine, sandbox)
    env = environment(database_url, sandbox, slack, WORK_LEASE_SECONDS="2")
    serve = serve_factory(env).start()
    statuses: dict[int, int] = {}
    with ThreadPoolExecutor(10) as pool:
        # A click the store could not take in time is answered with a failure (no ack, nothing committed);
        # its person clicks again, as people do. On a busy machine that can be the first round of clicks.
        for _round in range(5):
            again = [error_id for error_id in error_ids if statuses.get(error_id) != 200]
            if not again:
                break
            if _round:
                time.sleep(1.0)
            statuses.update(zip(again, pool.map(lambda e: _click(serve.base, slack, e), again), strict=True))
    time.sleep(kill_after)
    serve.kill()
    acked = [error_id for error_id, status in statuses.items() if status == 200]
    assert acked, (statuses, serve.log_text()[-3000:])

    with Session(engine) as session:  # an acked click always exists
        items = session.exec(select(WorkItem)).all()
    targets = {str((item.payload or {}).get("target")) for item in items}
    assert {f"error:{error_id}" for error_id in acked} <= targets

    serve.start()

    def settled() -> bool:
        with Session(engine) as session:
            live = session.exec(
                select(WorkItem).where(col(WorkItem.status).in_((WorkStatus.QUEUED, WorkStatus.RUNNING)))
            ).all()
        return not live

    wait_until(settled, timeout=90)
    serve.stop()

    with Session(engine) as session:
        outcomes = session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "resync", col(AuditEntry.result).in_(("ok", "failed"))
            )
        ).all()
        errors = {e.id: e for e in session.exec(select(SyncError)).all()}
    per_target: dict[str, int] = {}
    for entry in outcomes:
        per_target[str(entry.target)] = per_target.get(str(entry.target), 0) + 1
    for error_id in acked:
        assert per_target.get(f"error:{error_id}") == 1, (error_id, per_target)  # exactly once
        assert errors[error_id].status == ErrorStatus.RESOLVED
        answers = [c.body for c in slack.calls("response_url") if c.path == f"/response/click{error_id}"]
        results = [a for a in answers if "Queued" not in json.dumps(a)]
        assert len(results) == 1, (error_id, answers)  # one answer saying what happened
    assert "Traceback" not in serve.log_text()
