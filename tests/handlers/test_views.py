"""Modal submissions over signed HTTP: purge (count again, delete, say how many), snooze, couple."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlmodel import Session, select

from bot.operations import error_entries
from handlers.seal import seal
from storage.models import ErrorStatus, Notification, SyncError, WorkStatus
from storage.types import utcnow
from tests.factories import make_error
from tests.fakes.slack_payloads import plain_input, static_select
from tests.handlers.conftest import ADMIN, SECRET, USER, Harness

GUID = "6f1c0c7e-1111-2222-3333-444455556666"


def _error(harness: Harness, **overrides: object) -> int:
    with Session(harness.db) as session:
        error = make_error(session, **overrides)
        session.commit()
        assert error.id is not None
        return error.id


def _count(harness: Harness) -> int:
    with Session(harness.db) as session:
        return len(session.exec(select(SyncError)).all())


def _show_purge(harness: Harness, days: int | None) -> None:
    """Open the purge modal as an admin and wait until the server has kept what it showed.

    The listener calls views.open and only then stores the count under the returned view id, so the
    call alone is not yet a confirmation the server would accept (its view is V0001 in the Slack stand-in).
    """
    harness.click("purge_older_than" if days else "purge_all", str(days) if days else "all", user=ADMIN)
    harness.calls("views.open")
    view_id = f"V{len(harness.fake.calls('views.open')):04d}"
    harness.wait(lambda: [1] if error_entries.shown_purge(harness.db, view_id=view_id) else [], 1)


def _purge_actions(harness: Harness) -> list[tuple[str, str]]:
    return [(a.action, a.result) for a in harness.audit() if a.target == "errors"]


def test_purge_submission_deletes_what_the_modal_counted(harness: Harness) -> None:
    _error(harness, created_at=utcnow() - timedelta(days=10))
    _error(harness, created_at=utcnow() - timedelta(days=8))
    _error(harness)
    _show_purge(harness, 7)
    response = harness.submit("purge_confirm_modal", metadata=json.dumps({"older_than_days": 7}), user=ADMIN)
    assert response.status_code == 200
    (dm,) = harness.calls("chat.postMessage")
    assert dm.body["channel"] == ADMIN and "2" in dm.body["text"]
    assert _count(harness) == 1
    assert _purge_actions(harness) == [("purge_older_than", "ok")]
    (entry,) = [a for a in harness.audit() if a.target == "errors"]
    assert entry.actor == ADMIN
    with Session(harness.db) as session:
        (line,) = session.exec(select(Notification)).all()
    assert line.channel == "C1" and "deleted 2" in line.payload["text"]


def test_purge_goes_by_last_seen_and_spares_what_came_after_the_count(harness: Harness) -> None:
    old = _error(harness, created_at=utcnow() - timedelta(days=10))
    seen_again = _error(harness, created_at=utcnow() - timedelta(days=10))
    with Session(harness.db) as session:
        row = session.get(SyncError, seen_again)
        assert row is not None
        row.last_seen_at = utcnow() - timedelta(minutes=5)  # first seen long ago, seen again minutes ago
        session.add(row)
        session.commit()
    counted = _error(harness, created_at=utcnow() - timedelta(days=9))
    _show_purge(harness, 7)
    (call,) = harness.fake.calls("views.open")
    assert "*2*" in str(call.body["view"]["blocks"])  # old and counted; not the one seen again
    # While the modal is open: a new old-looking entry arrives and a counted one is seen again.
    _error(harness, created_at=utcnow() - timedelta(days=30))
    with Session(harness.db) as session:
        row = session.get(SyncError, counted)
        assert row is not None
        row.last_seen_at = utcnow()
        session.add(row)
        session.commit()
    harness.submit("purge_confirm_modal", metadata=json.dumps({"older_than_days": 7}), user=ADMIN)
    (dm,) = harness.calls("chat.postMessage")
    assert "Deleted 1 error entry" in dm.body["text"]
    assert "1 of the 2 counted entries was seen again" in dm.body["text"]
    with Session(harness.db) as session:
        left = {e.id for e in session.exec(select(SyncError)).all()}
    assert old not in left and {seen_again, counted} <= left and len(left) == 3


def test_purge_all_submission_deletes_everything_shown(harness: Harness) -> None:
    for _ in range(3):
        _error(harness)
    _show_purge(harness, None)
    _error(harness)  # arrived after the count: stays
    harness.submit("purge_confirm_modal", metadata=json.dumps({"older_than_days": None}), user=ADMIN)
    (dm,) = harness.calls("chat.postMessage")
    assert "Deleted 3 error entries" in dm.body["text"]
    assert _count(harness) == 1


def test_purge_submission_with_nothing_counted_updates_the_modal(harness: Harness) -> None:
    _error(harness)
    _show_purge(harness, 7)
    response = harness.submit("purge_confirm_modal", metadata=json.dumps({"older_than_days": 7}), user=ADMIN)
    ack = response.json()
    assert ack["response_action"] == "update" and ack["view"]["callback_id"] == "purge_confirm_modal"
    assert _count(harness) == 1 and _purge_actions(harness) == []


def test_a_submission_that_does_not_match_what_was_shown_changes_nothing(harness: Harness) -> None:
    for _ in range(3):
        _error(harness)
    _show_purge(harness, 7)  # showed "older than 7 days: nothing"
    harness.submit("purge_confirm_modal", metadata=json.dumps({"older_than_days": None}), user=ADMIN)
    (dm,) = harness.calls("chat.postMessage")
    assert "does not match what was shown" in dm.body["text"]
    assert _count(harness) == 3 and _purge_actions(harness) == []


def test_a_submission_of_a_modal_never_shown_changes_nothing(harness: Harness) -> None:
    _error(harness)
    harness.submit("purge_confirm_modal", metadata=json.dumps({"older_than_days": None}), user=ADMIN)
    (dm,) = harness.calls("chat.postMessage")
    assert "does not match what was shown" in dm.body["text"]
    assert _count(harness) == 1 and _purge_actions(harness) == []


def test_a_confirmation_is_used_once(harness: Harness) -> None:
    for _ in range(2):
        _error(harness)
    _show_purge(harness, None)
    harness.submit("purge_confirm_modal", metadata=json.dumps({"older_than_days": None}), user=ADMIN)
    harness.calls("chat.postMessage")
    _error(harness)
    time.sleep(1.1)  # a new signed request: the very same one again is a replay, ignored before this check
    harness.submit("purge_confirm_modal", metadata=json.dumps({"older_than_days": None}), user=ADMIN)
    messages = harness.calls("chat.postMessage", 2)
    assert "does not match what was shown" in messages[1].body["text"]
    assert _count(harness) == 1


def test_purge_submission_by_a_non_admin_deletes_nothing(harness: Harness) -> None:
    _error(harness)
    harness.submit("purge_confirm_modal", metadata=json.dumps({"older_than_days": None}), user=USER)
    (dm,) = harness.calls("chat.postMessage")
    assert "Only sync admins" in dm.body["text"]
    assert _count(harness) == 1
    assert [(a.action, a.result) for a in harness.audit()] == [("purge_all", "refused")]


def test_purge_submission_with_unreadable_metadata_deletes_nothing(harness: Harness) -> None:
    _error(harness)
    harness.submit("purge_confirm_modal", metadata="garbage", user=ADMIN)
    harness.calls("chat.postMessage")
    assert _count(harness) == 1


def test_snooze_submission_snoozes_for_the_chosen_time(harness: Harness) -> None:
    error_id = _error(harness, slack_channel="C1", slack_ts="1.1")
    values = {"snooze_duration_block": {"snooze_duration": static_select("4h")}}
    response = harness.submit("snooze_modal", values, metadata=_sealed(error_id, "snooze_modal", USER))
    assert response.status_code == 200 and response.text == ""
    harness.wait(harness.audit, 1)
    with Session(harness.db) as session:
        error = session.get(SyncError, error_id)
        assert error is not None and error.status == ErrorStatus.SNOOZED
        assert error.snoozed_until is not None and error.snoozed_until > utcnow() + timedelta(hours=3)


def test_snooze_submission_with_a_bad_choice_keeps_the_modal_open(harness: Harness) -> None:
    error_id = _error(harness)
    values = {"snooze_duration_block": {"snooze_duration": static_select("forever")}}
    ack = harness.submit("snooze_modal", values, metadata=_sealed(error_id, "snooze_modal", USER)).json()
    assert ack["response_action"] == "errors" and "snooze_duration_block" in ack["errors"]
    assert harness.audit() == []


def _sealed(error_id: int | None, callback_id: str, user: str) -> str:
    """private_metadata as the bot seals it when it opens the modal for `user`."""
    return seal(SECRET, purpose=callback_id, value=str(error_id), user_id=user)


def test_a_snooze_submission_for_another_error_than_the_modal_showed_changes_nothing(
    harness: Harness,
) -> None:
    error_id = _error(harness)
    values = {"snooze_duration_block": {"snooze_duration": static_select("4h")}}
    forged = [
        str(error_id),
        _sealed(error_id, "snooze_modal", ADMIN),
        _sealed(error_id, "couple_modal", USER),
    ]
    for metadata in forged:
        ack = harness.submit("snooze_modal", values, metadata=metadata, user=USER).json()
        assert ack["response_action"] == "errors"
    with Session(harness.db) as session:
        error = session.get(SyncError, error_id)
        assert error is not None and error.status == ErrorStatus.OPEN


def _couple_values(reference: str, sync: str = "none") -> dict[str, object]:
    return {
        "couple_reference_block": {"couple_reference": plain_input(reference)},
        "couple_sync_block": {"couple_sync": static_select(sync)},
    }


def test_couple_submission_with_a_bad_reference_names_the_problem(harness: Harness) -> None:
    error_id = _error(harness, source_table="customer", destination_table="account")
    ack = harness.submit(
        "couple_modal",
        _couple_values("nonsense"),
        metadata=_sealed(error_id, "couple_modal", ADMIN),
        user=ADMIN,
    ).json()
    assert ack["response_action"] == "errors"
    assert "couple_reference_block" in ack["errors"]
    assert harness.work() == []


def test_couple_submission_naming_the_same_app_is_refused_in_the_modal(harness: Harness) -> None:
    error_id = _error(harness, source_table="customer", destination_table="account")
    ack = harness.submit(
        "couple_modal",
        _couple_values("customer:20000"),
        metadata=_sealed(error_id, "couple_modal", ADMIN),
        user=ADMIN,
    ).json()
    assert ack["response_action"] == "errors" and "Dataverse" in ack["errors"]["couple_reference_block"]


def test_couple_submission_queues_the_coupling(harness: Harness) -> None:
    error_id = _error(harness, source_table="customer", destination_table="account")
    response = harness.submit(
        "couple_modal",
        _couple_values(GUID, "bc"),
        metadata=_sealed(error_id, "couple_modal", ADMIN),
        user=ADMIN,
    )
    assert response.status_code == 200 and response.text == ""
    (dm,) = harness.calls("chat.postMessage")
    assert "Queued" in dm.body["text"]
    (item,) = harness.work()
    assert item.kind == "couple" and item.status == WorkStatus.QUEUED
    assert item.payload["dataverse_ref"] == f"account:{GUID}"
    assert item.payload["bc_ref"].startswith("customer:") and item.payload["sync"] == "bc"


def test_couple_submission_by_a_non_admin_is_refused(harness: Harness) -> None:
    error_id = _error(harness, source_table="customer", destination_table="account")
    harness.submit(
        "couple_modal", _couple_values(GUID), metadata=_sealed(error_id, "couple_modal", USER), user=USER
    )
    (dm,) = harness.calls("chat.postMessage")
    assert "Only sync admins" in dm.body["text"]
    assert harness.work() == []
    assert [(a.action, a.result) for a in harness.audit()] == [("couple", "refused")]


def test_the_snooze_modal_opened_by_a_click_is_accepted_at_submit(harness: Harness) -> None:
    error_id = _error(harness)
    harness.click("snooze", str(error_id), user=USER)
    (opened,) = harness.calls("views.open")
    metadata = opened.body["view"]["private_metadata"]
    values = {"snooze_duration_block": {"snooze_duration": static_select("1h")}}
    assert harness.submit("snooze_modal", values, metadata=metadata, user=USER).text == ""

    def snoozed() -> list[SyncError]:
        with Session(harness.db) as session:
            error = session.get(SyncError, error_id)
            return [error] if error is not None and error.status == ErrorStatus.SNOOZED else []

    harness.wait(snoozed, 1)  # the modal closes at the ack; the snooze is stored right after it
