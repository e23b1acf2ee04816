"""Answers through response_url on a kept-alive connection: the bytes and failures of Bolt's respond()."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.error import URLError

import pytest
from slack_bolt import Respond

from handlers import responding
from handlers.responding import PooledRespond
from tests.fakes.slack_api import FakeSlack

ANSWER: dict[str, Any] = {
    "text": "Sync errors: 2 · “quoted”",
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "`#1` ❌ *Adatum* <https://x/?a=1&b=2|a>"}}
    ],
    "response_type": "ephemeral",
    "replace_original": False,
}


@pytest.fixture(autouse=True)
def _no_kept_connections() -> Iterator[None]:
    responding._CONNECTIONS.forget()
    yield
    responding._CONNECTIONS.forget()


def _kept() -> list[Any]:
    return [connection for idle in responding._CONNECTIONS._idle.values() for connection in idle]


def test_the_answer_is_byte_for_byte_what_bolts_respond_sends(fake_slack: FakeSlack) -> None:
    Respond(response_url=fake_slack.response_url("bolt"))(**ANSWER)
    response = PooledRespond(response_url=fake_slack.response_url("pooled"))(**ANSWER)

    bolt, pooled = fake_slack.calls("response_url")
    assert pooled.raw == bolt.raw
    assert {k: v for k, v in pooled.headers.items() if k not in ("connection", "host")} == {
        k: v for k, v in bolt.headers.items() if k not in ("connection", "host")
    }
    assert response.status_code == 200 and response.body == '{"ok": true}'


def test_later_answers_to_the_host_reuse_one_connection(fake_slack: FakeSlack) -> None:
    PooledRespond(response_url=fake_slack.response_url("a"))(text="one")
    [first] = _kept()
    PooledRespond(response_url=fake_slack.response_url("b"))(text="two")

    assert _kept() == [first]
    assert [call.path for call in fake_slack.calls("response_url")] == ["/response/a", "/response/b"]


def test_a_kept_connection_the_server_dropped_is_replaced(fake_slack: FakeSlack) -> None:
    PooledRespond(response_url=fake_slack.response_url("a"))(text="one")
    fake_slack.fail_next("response_url", disconnect=True)

    response = PooledRespond(response_url=fake_slack.response_url("b"))(text="two")

    assert response.status_code == 200
    paths = [call.path for call in fake_slack.calls("response_url")]
    assert paths == ["/response/a", "/response/b", "/response/b"]  # sent again on a new connection


def test_an_error_status_is_answered_as_bolts_respond_answers_it(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("response_url", status=500)
    fake_slack.fail_next("response_url", status=500)
    bolt = Respond(response_url=fake_slack.response_url("bolt"))(text="x")
    pooled = PooledRespond(response_url=fake_slack.response_url("pooled"))(text="x")

    assert (pooled.status_code, pooled.body) == (bolt.status_code, bolt.body) == (500, bolt.body)
    assert "Slack is having trouble" in pooled.body
    assert len(fake_slack.calls("response_url")) == 2  # no retry of a 500, as before


def test_an_unreachable_host_is_retried_once_then_raises_as_before() -> None:
    with FakeSlack() as fake:
        url = fake.response_url("gone")
    with pytest.raises(URLError):
        Respond(response_url=url)(text="x")
    with pytest.raises(URLError):
        PooledRespond(response_url=url)(text="x")
    assert _kept() == []
