"""The front under real gunicorn: stalled and huge uploads, bad timestamps, malformed and replayed bodies."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.sandbox import SandboxServer
from bot.sync.mappings import seed_default_mappings
from bot.webworker import IO_TIMEOUT_SECONDS
from storage.db import session_scope
from storage.models import WorkItem
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_payloads import signed_headers, slash_command_body
from tests.faults.conftest import SECRET, USER, Serve, environment

pytestmark = pytest.mark.slow

STALLED = 20


def _stalled_upload(port: int, length: int) -> socket.socket:
    """A connection that announces a body of `length` bytes and sends none of it."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(
        (
            "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {int(time.time())}\r\nX-Slack-Signature: v0=00\r\n"
            f"Content-Length: {length}\r\n\r\n"
        ).encode()
    )
    return conn


def _status_line(conn: socket.socket) -> str:
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(1024)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


@pytest.fixture
def serve(
    database_url: str, sandbox: SandboxServer, slack: FakeSlack, serve_factory: Callable[..., Serve]
) -> Serve:
    """serve --http without a scheduler."""
    return serve_factory(environment(database_url, sandbox, slack), scheduler=False).start()


def test_stalled_uploads_leave_healthz_answering(serve: Serve) -> None:
    stalled = [_stalled_upload(serve.port, 1_000_000) for _ in range(STALLED)]
    try:
        for _ in range(3):
            assert httpx.get(f"{serve.base}/healthz", timeout=1.0).status_code == 200
        assert {_status_line(conn) for conn in stalled} == {"HTTP/1.1 413 Content Too Large"}
    finally:
        for conn in stalled:
            conn.close()
    assert "Traceback" not in serve.log_text()


def test_a_body_below_the_limit_that_never_arrives_is_cut_at_the_read_deadline(serve: Serve) -> None:
    conn = _stalled_upload(serve.port, 30_000)
    try:
        conn.settimeout(15)
        assert _status_line(conn) == "HTTP/1.1 408 Request Timeout"
    finally:
        conn.close()
    assert httpx.get(f"{serve.base}/healthz", timeout=1.0).status_code == 200


def test_a_huge_unsigned_body_gets_413_without_being_read(serve: Serve) -> None:
    conn = _stalled_upload(serve.port, 100_000_000)
    try:
        conn.sendall(b"x" * 65536)
        assert _status_line(conn) == "HTTP/1.1 413 Content Too Large"
    finally:
        conn.close()


def test_bad_requests_are_refused_with_no_traceback_and_a_replay_does_nothing(
    serve: Serve, engine: Engine, slack: FakeSlack
) -> None:
    body = slash_command_body("sync CUSTOMER", user_id=USER, response_url=slack.response_url("r"))
    headers = signed_headers(body, SECRET)
    bad_stamp = {**headers, "X-Slack-Request-Timestamp": "later"}
    url = f"{serve.base}/slack/events"
    assert httpx.post(url, content=body, headers=bad_stamp).status_code == 401
    assert httpx.post(url, content="payload=%7B", headers={}).status_code in (401, 411)
    for payload in ("{", "[1]", '"x"', json.dumps({"type": "block_actions", "actions": "resync"})):
        garbage = urlencode({"payload": payload})
        assert httpx.post(url, content=garbage, headers=signed_headers(garbage, SECRET)).status_code == 400
    for _ in range(3):  # the same signed request three times: queued once
        assert httpx.post(url, content=body, headers=headers).status_code == 200
    time.sleep(0.5)
    with Session(engine) as session:
        assert len(session.exec(select(WorkItem)).all()) == 1
    with session_scope(engine) as session:
        seed_default_mappings(session)
    everything = slash_command_body(
        "sync CUSTOMER CONTACT CURRENCY SALESPEOPLE ITEM-PRODUCT",
        user_id=USER,
        response_url=slack.response_url("a"),
    )
    assert httpx.post(url, content=everything, headers=signed_headers(everything, SECRET)).status_code == 200
    time.sleep(0.5)
    with Session(engine) as session:
        assert len(session.exec(select(WorkItem)).all()) == 1  # naming every mapping is syncing everything
    assert "Traceback" not in serve.log_text()


def test_connections_that_send_nothing_leave_healthz_answering(serve: Serve) -> None:
    silent = [socket.create_connection(("127.0.0.1", serve.port), timeout=10) for _ in range(STALLED)]
    try:
        time.sleep(0.2)
        for _ in range(3):
            assert httpx.get(f"{serve.base}/healthz", timeout=1.0).status_code == 200
    finally:
        for conn in silent:
            conn.close()


def test_half_sent_headers_hold_a_thread_only_for_the_io_timeout(serve: Serve) -> None:
    halves = [socket.create_connection(("127.0.0.1", serve.port), timeout=10) for _ in range(STALLED)]
    try:
        for conn in halves:
            conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slack-")
        time.sleep(0.2)
        limit = 3 * IO_TIMEOUT_SECONDS + 1.0  # two rounds of stalled clients per worker at most
        assert httpx.get(f"{serve.base}/healthz", timeout=limit).status_code == 200
    finally:
        for conn in halves:
            conn.close()
    assert "Traceback" not in serve.log_text()
