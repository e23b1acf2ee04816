"""The bot served over real HTTP on 127.0.0.1, Slack's Web API as the loopback stand-in, signed requests."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import build_app
from bot.config import Settings
from bot.services import Services, build_services
from bot.web import WebApp
from handlers.people import LOCALES
from storage.models import AuditEntry, WorkItem
from tests.fakes.slack_api import FakeSlack, RecordedCall
from tests.fakes.slack_payloads import (
    JSON,
    app_home_opened_body,
    block_actions_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)

SECRET = "test-signing-secret"
ADMIN = "U02ADMIN"
USER = "U01ALICE"
CHANNEL = "C1"
WAIT_SECONDS = 10.0


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


@dataclass
class Harness:
    """Sends signed Slack requests to the running bot and reads what it said back."""

    url: str
    http: httpx.Client
    fake: FakeSlack
    services: Services
    settings: Settings
    _ids: Iterator[int]

    @property
    def db(self) -> Engine:
        """The bot's store."""
        return self.services.db

    def post(
        self, body: str, *, content_type: str = "application/x-www-form-urlencoded", **headers: str
    ) -> httpx.Response:
        """POST a body to /slack/events signed with the real signing secret (extra headers override)."""
        signed = signed_headers(body, SECRET, content_type=content_type)
        signed.update(headers)
        return self.http.post("/slack/events", content=body.encode(), headers=signed)

    def response_url(self) -> tuple[str, str]:
        """A fresh response_url of the stand-in and the path its POSTs are recorded under."""
        name = f"r{next(self._ids)}"
        return self.fake.response_url(name), f"/response/{name}"

    def command(self, text: str = "", *, user: str = USER) -> str:
        """Send `/sync-errors text`; return the response path to read the answers from."""
        url, path = self.response_url()
        body = slash_command_body(text, user_id=user, response_url=url, trigger_id=f"t{next(self._ids)}")
        response = self.post(body)
        assert response.status_code == 200, response.text
        return path

    def click(self, action_id: str, value: str | None = None, *, user: str = USER, **fields: Any) -> str:
        """Click a button in a channel message; return the response path."""
        url, path = self.response_url()
        body = block_actions_body(action_id, value, user_id=user, response_url=url, **fields)
        response = self.post(body)
        assert response.status_code == 200, response.text
        return path

    def submit(
        self, callback_id: str, values: dict[str, Any] | None = None, *, metadata: str = "", user: str = USER
    ) -> httpx.Response:
        """Submit a modal; return the HTTP response (its JSON body is the ack)."""
        body = view_submission_body(callback_id, values, private_metadata=metadata, user_id=user)
        return self.post(body)

    def open_home(self, user: str = USER, *, event_id: str = "Ev1", **headers: str) -> httpx.Response:
        """Send app_home_opened."""
        return self.post(app_home_opened_body(user, event_id=event_id), content_type=JSON, **headers)

    def answers(self, path: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait for `count` answers on a response path and return their bodies."""
        found = self.wait(lambda: [c for c in self.fake.calls("response_url") if c.path == path], count)
        return [call.body for call in found]

    def answer_text(self, path: str, count: int = 1) -> str:
        """The text and blocks of the `count`-th answer on a path, as one string to search."""
        body = self.answers(path, count)[count - 1]
        return json.dumps(body, ensure_ascii=False)

    def calls(self, method: str, count: int = 1) -> list[RecordedCall]:
        """Wait for `count` calls of a Web API method."""
        return self.wait(lambda: self.fake.calls(method), count)

    def wait(self, found: Any, count: int) -> Any:
        """Poll `found()` until it has `count` items (listeners answer after the ack, on other threads)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            items = found()
            if len(items) >= count:
                return items
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count}, got {len(items)}: {items!r}")
            time.sleep(0.02)

    def audit(self) -> list[AuditEntry]:
        """Every audit entry, oldest first."""
        with Session(self.db) as session:
            return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)).all())  # type: ignore[arg-type]

    def work(self) -> list[WorkItem]:
        """Every work item, oldest first."""
        with Session(self.db) as session:
            return list(session.exec(select(WorkItem).order_by(WorkItem.id)).all())  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _fresh_locales() -> Iterator[None]:
    LOCALES.forget()
    yield
    LOCALES.forget()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """The Slack Web API stand-in."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def harness(engine: Engine, database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    """The bot's WebApp on 127.0.0.1:0 in a thread, talking to the stand-in."""
    settings = Settings(
        database_url=database_url,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=fake_slack.api_url,
        slack_channel=CHANNEL,
        sync_admins=[ADMIN],
    )
    services = build_services(settings, db=engine)
    web = WebApp(build_app(settings, services, verified_by_front=True), services)
    server = make_server("127.0.0.1", 0, web, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with httpx.Client(base_url=url, timeout=10, trust_env=False) as http:
        yield Harness(url, http, fake_slack, services, settings, itertools.count(1))
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    web.close()  # its replay writer writes before the engine is disposed (else it opens a connection after)
