"""App Home over signed HTTP: published on app_home_opened, again (harmlessly) on Slack's retries."""

from __future__ import annotations

import json

from sqlmodel import Session

from bot.blocks import build_home
from bot.sync.mappings import seed_default_mappings
from tests.factories import make_error, make_job
from tests.handlers.conftest import USER, Harness


def test_home_shows_open_errors_last_jobs_and_next_runs(harness: Harness) -> None:
    with Session(harness.db) as session:
        seed_default_mappings(session)
        make_error(session, mapping="CUSTOMER")
        make_job(session, mapping="CUSTOMER", inserted=2)
        session.commit()
    assert harness.open_home(USER).status_code == 200
    (call,) = harness.calls("views.publish")
    assert call.body["user_id"] == USER
    view = json.dumps(call.body["view"])
    assert call.body["view"]["type"] == "home"
    assert "CUSTOMER" in view and "purge_all" in view and "home_refresh" in view


def test_home_in_the_users_language(harness: Harness) -> None:
    harness.fake.set_user(USER, locale="cs-CZ")
    harness.open_home(USER)
    (call,) = harness.calls("views.publish")
    (info,) = harness.fake.calls("users.info")
    assert info.body["user"] == USER and info.body["include_locale"] in ("true", "1", True)
    czech = build_home([], [], [], locale="cs").blocks[0].to_dict()["text"]["text"]
    english = build_home([], [], [], locale="en").blocks[0].to_dict()["text"]["text"]
    assert czech != english
    assert call.body["view"]["blocks"][0]["text"]["text"] == czech


def test_a_retried_event_publishes_the_same_home_again(harness: Harness) -> None:
    harness.open_home(USER)
    first = harness.calls("views.publish", 1)[0].body["view"]
    retry = harness.open_home(USER, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    calls = harness.fake.calls("views.publish")
    assert all(call.body["user_id"] == USER for call in calls)
    strip = lambda view: [b for b in view["blocks"] if b["type"] != "context"]  # noqa: E731 - the time line
    assert all(strip(call.body["view"]) == strip(first) for call in calls)
    assert harness.fake.home_view(USER) is not None


def test_locale_is_asked_once_per_user(harness: Harness) -> None:
    harness.answers(harness.command("help"))
    harness.answers(harness.command("status"))
    assert len(harness.fake.calls("users.info")) == 1
