"""Buttons over signed HTTP: queued work, modals with counts, details, deletes, refusals, double clicks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from storage.audit import record_audit
from storage.errors import resolve_error
from storage.models import Category, Door, ErrorStatus, SyncError
from storage.types import utcnow
from tests.factories import make_error
from tests.fakes.slack_payloads import block_actions_body
from tests.handlers.conftest import ADMIN, USER, Harness


def _error(harness: Harness, **overrides: object) -> int:
    with Session(harness.db) as session:
        error = make_error(session, **overrides)
        session.commit()
        assert error.id is not None
        return error.id


@pytest.mark.parametrize(
    ("action_id", "user"),
    [
        ("resync", USER),
        ("keep_bc", USER),
        ("keep_dataverse", USER),
        ("uncouple", ADMIN),
        ("restore_record", ADMIN),
        ("delete_record", ADMIN),
        ("couple_dependency", ADMIN),
    ],
)
def test_work_buttons_queue_once_and_answer_at_once(harness: Harness, action_id: str, user: str) -> None:
    error_id = _error(harness)
    text = harness.answer_text(harness.click(action_id, str(error_id), user=user))
    assert "Queued" in text and f"#{error_id}" in text
    (item,) = harness.work()
    assert (item.kind, item.payload["error_id"], item.requested_by) == (action_id, error_id, user)
    assert [(a.action, a.result, a.target) for a in harness.audit()] == [
        (action_id, "queued", f"error:{error_id}")
    ]


@pytest.mark.parametrize("action_id", ["uncouple", "restore_record", "delete_record", "couple_dependency"])
def test_admin_buttons_are_refused_to_others(harness: Harness, action_id: str) -> None:
    error_id = _error(harness)
    text = harness.answer_text(harness.click(action_id, str(error_id), user=USER))
    assert "Only sync admins" in text and f"<@{ADMIN}>" in text
    assert harness.work() == []
    assert [(a.action, a.result, a.actor) for a in harness.audit()] == [(action_id, "refused", USER)]


def test_admin_rights_come_from_the_settings_not_from_the_payload(harness: Harness) -> None:
    error_id = _error(harness)
    # A forged-looking payload naming the admin as the user name changes nothing: the id decides.
    path = harness.click("delete_record", str(error_id), user=USER, user_name="U02ADMIN")
    assert "Only sync admins" in harness.answer_text(path)
    assert harness.work() == []


def test_a_double_click_queues_once_and_says_who_queued_it(harness: Harness) -> None:
    error_id = _error(harness)
    first = harness.click("resync", str(error_id), user=ADMIN)
    harness.answers(first)
    second = harness.answer_text(harness.click("resync", str(error_id), user=USER))
    assert "already queued" in second and f"<@{ADMIN}>" in second
    assert len(harness.work()) == 1
    assert [a.result for a in harness.audit()] == ["queued"]


def test_a_click_on_a_resolved_error_says_who_resolved_it(harness: Harness) -> None:
    error_id = _error(harness)
    with Session(harness.db) as session:
        error = session.get(SyncError, error_id)
        assert error is not None
        resolve_error(session, error=error, by=ADMIN, resolution="Re-synchronized")
        session.commit()
    text = harness.answer_text(harness.click("resync", str(error_id), user=USER))
    assert f"<@{ADMIN}>" in text and "Resolved" in text
    assert harness.work() == []


def test_a_second_couple_dependency_says_who_did_it(harness: Harness) -> None:
    error_id = _error(harness, category=Category.DEPENDENCY_NOT_COUPLED)
    with Session(harness.db) as session:
        record_audit(
            session,
            actor=ADMIN,
            door=Door.SLACK,
            action="couple_dependency",
            target=f"error:{error_id}",
            result="ok",
        )
        session.commit()
    text = harness.answer_text(harness.click("couple_dependency", str(error_id), user=ADMIN))
    assert "Already coupled" in text and f"<@{ADMIN}>" in text
    assert harness.work() == []


def test_a_button_on_a_purged_error_says_it_is_gone(harness: Harness) -> None:
    text = harness.answer_text(harness.click("resync", "4242"))
    assert "#4242" in text and harness.work() == []


def test_couple_opens_the_couple_modal_for_admins(harness: Harness) -> None:
    error_id = _error(harness, category=Category.VALIDATION)
    harness.click("couple", str(error_id), user=ADMIN)
    (call,) = harness.calls("views.open")
    assert call.body["view"]["callback_id"] == "couple_modal"
    assert call.body["view"]["private_metadata"].startswith(f"{error_id}~")  # sealed for the clicker


def test_couple_is_refused_to_others_without_a_modal(harness: Harness) -> None:
    error_id = _error(harness)
    assert "Only sync admins" in harness.answer_text(harness.click("couple", str(error_id), user=USER))
    assert harness.fake.calls("views.open") == []
    assert [(a.action, a.result) for a in harness.audit()] == [("couple", "refused")]


def test_snooze_opens_the_snooze_modal(harness: Harness) -> None:
    error_id = _error(harness)
    harness.click("snooze", str(error_id))
    (call,) = harness.calls("views.open")
    assert call.body["view"]["callback_id"] == "snooze_modal"
    assert call.body["trigger_id"] == "1.1.trigger"


def test_snooze_on_a_snoozed_error_says_until_when(harness: Harness) -> None:
    error_id = _error(
        harness, status=ErrorStatus.SNOOZED, snoozed_until=utcnow() + timedelta(hours=2), resolved_by=ADMIN
    )
    text = harness.answer_text(harness.click("snooze", str(error_id)))
    assert "snoozed" in text.lower() and f"<@{ADMIN}>" in text
    assert harness.fake.calls("views.open") == []


@pytest.mark.parametrize(
    ("action_id", "value", "count"), [("purge_older_than", "7", "2"), ("purge_all", "all", "3")]
)
def test_purge_buttons_open_the_modal_with_the_count(
    harness: Harness, action_id: str, value: str, count: str
) -> None:
    _error(harness, created_at=utcnow() - timedelta(days=9))
    _error(harness, created_at=utcnow() - timedelta(days=8))
    _error(harness)
    harness.click(action_id, value, user=ADMIN)
    (call,) = harness.calls("views.open")
    view = call.body["view"]
    assert view["callback_id"] == "purge_confirm_modal" and count in str(view["blocks"])
    # What the modal shows is kept on the server under the view's id (known once views.open has answered,
    # so the entry is written after the call the test saw); nothing is deleted yet.
    (shown,) = harness.wait(harness.audit, 1)
    assert (shown.action, shown.result, shown.target) == ("purge_shown", "shown", "view:V0001")
    assert f'"count": {count}' in shown.detail


def test_purge_buttons_are_refused_to_others(harness: Harness) -> None:
    _error(harness)
    assert "Only sync admins" in harness.answer_text(harness.click("purge_all", "all", user=USER))
    assert harness.fake.calls("views.open") == []
    assert [(a.action, a.result) for a in harness.audit()] == [("purge_all", "refused")]


def test_show_details_answers_only_the_clicker(harness: Harness) -> None:
    error_id = _error(harness, detail="every last detail")
    path = harness.click("show_details", str(error_id))
    (answer,) = harness.answers(path)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "every last detail" in str(answer["blocks"])


def test_delete_entry_deletes_for_admins_and_a_second_click_says_who(harness: Harness) -> None:
    error_id = _error(harness, slack_channel="C1", slack_ts="1.1")
    assert "deleted" in harness.answer_text(harness.click("delete_error", str(error_id), user=ADMIN))
    with Session(harness.db) as session:
        assert session.get(SyncError, error_id) is None
    again = harness.answer_text(harness.click("delete_error", str(error_id), user=ADMIN))
    assert "Already deleted" in again and f"<@{ADMIN}>" in again


def test_delete_entry_is_refused_to_others(harness: Harness) -> None:
    error_id = _error(harness)
    assert "Only sync admins" in harness.answer_text(harness.click("delete_error", str(error_id), user=USER))
    with Session(harness.db) as session:
        assert session.get(SyncError, error_id) is not None
    assert [(a.action, a.result) for a in harness.audit()] == [("delete_error", "refused")]


@pytest.mark.parametrize("action_id", ["open_record", "snooze_duration", "couple_reference", "couple_sync"])
def test_quiet_elements_are_only_acked(harness: Harness, action_id: str) -> None:
    response = harness.post(block_actions_body(action_id, "x"))
    assert response.status_code == 200
    assert harness.fake.calls("response_url") == [] and harness.audit() == []


def test_home_refresh_publishes_the_home_tab(harness: Harness) -> None:
    harness.click("home_refresh", "home")
    (call,) = harness.calls("views.publish")
    assert call.body["user_id"] == USER and call.body["view"]["type"] == "home"
