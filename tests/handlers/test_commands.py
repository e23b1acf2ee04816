"""`/sync-errors` over signed HTTP: every subcommand answers ephemerally through the response_url."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.sync.mappings import seed_default_mappings
from storage.models import ErrorStatus, Mapping, Notification, NotificationKind, SyncError, WorkStatus
from storage.types import utcnow
from tests.factories import make_error, make_job
from tests.handlers.conftest import ADMIN, USER, Harness


def _errors(harness: Harness, count: int = 1, **overrides: object) -> list[int]:
    with Session(harness.db) as session:
        ids = [make_error(session, **overrides).id for _ in range(count)]
        session.commit()
    return [error_id for error_id in ids if error_id is not None]


def _mappings(harness: Harness) -> None:
    with Session(harness.db) as session:
        seed_default_mappings(session)
        session.commit()


def test_no_words_shows_the_summary_with_both_purge_buttons(harness: Harness) -> None:
    _errors(harness, 2)
    with Session(harness.db) as session:
        make_job(session, inserted=3)
        session.commit()
    path = harness.command("")
    answer = harness.answers(path)[0]
    assert answer["response_type"] == "ephemeral"
    text = harness.answer_text(path)
    assert "purge_older_than" in text and "purge_all" in text
    assert "CUSTOMER" in text
    assert "/sync-errors" in text


def test_help_lists_the_subcommands(harness: Harness) -> None:
    text = harness.answer_text(harness.command("help"))
    for word in ("list", "resync", "purge", "snooze", "schedule", "doctor"):
        assert word in text


def test_unknown_words_show_the_help_naming_the_word(harness: Harness) -> None:
    text = harness.answer_text(harness.command("frobnicate now"))
    assert "frobnicate" in text
    assert "resync" in text


def test_wrong_arguments_name_the_problem_and_show_the_usage(harness: Harness) -> None:
    text = harness.answer_text(harness.command("snooze 17"))
    assert "snooze ID DURATION" in text
    assert "needs an error id and a duration" in text
    assert harness.work() == [] and harness.audit() == []


def test_list_pages_with_a_more_button_carrying_the_cursor(harness: Harness) -> None:
    ids = _errors(harness, 25)
    first = harness.answers(harness.command("list"))[0]
    buttons = [
        element
        for block in first["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "list_more"
    ]
    assert len(buttons) == 1
    shown = str(first["blocks"])
    assert f"#{ids[-1]}`" in shown and f"#{ids[0]}`" not in shown
    second = harness.answer_text(harness.click("list_more", buttons[0]["value"]))
    assert f"#{ids[0]}`" in second and f"#{ids[-1]}`" not in second


def test_list_filters_by_mapping(harness: Harness) -> None:
    _errors(harness, 1, mapping="CONTACT", message="contact trouble")
    _errors(harness, 1, mapping="CUSTOMER", message="customer trouble")
    text = harness.answer_text(harness.command("list --mapping contact"))
    assert "contact trouble" in text and "customer trouble" not in text


def test_show_gives_one_error_in_full(harness: Harness) -> None:
    (error_id,) = _errors(harness, 1, detail="the very long full text")
    text = harness.answer_text(harness.command(f"show {error_id}"))
    assert "the very long full text" in text


def test_show_of_a_missing_error_says_so(harness: Harness) -> None:
    text = harness.answer_text(harness.command("show 999"))
    assert "999" in text and "no error entry" in text


def test_status_lists_the_jobs(harness: Harness) -> None:
    with Session(harness.db) as session:
        make_job(session, mapping="CURRENCY", inserted=4)
        session.commit()
    assert "CURRENCY" in harness.answer_text(harness.command("status"))


def test_audit_shows_who_did_what(harness: Harness) -> None:
    (error_id,) = _errors(harness)
    harness.answers(harness.command(f"snooze {error_id} 4h", user=USER))
    everything = harness.answer_text(harness.command("audit"))
    one = harness.answer_text(harness.command(f"audit {error_id}"))
    assert "snooze" in everything and f"error:{error_id}" in one


def test_snooze_hides_the_error_and_queues_the_message_edit(harness: Harness) -> None:
    (error_id,) = _errors(harness, 1, slack_channel="C1", slack_ts="1.1")
    text = harness.answer_text(harness.command(f"snooze {error_id} 4h"))
    assert f"#{error_id}" in text and "Snoozed" in text
    with Session(harness.db) as session:
        error = session.get(SyncError, error_id)
        assert error is not None and error.status == ErrorStatus.SNOOZED
        assert error.snoozed_until is not None and error.snoozed_until > utcnow() + timedelta(hours=3)
        kinds = [n.kind for n in session.exec(select(Notification)).all()]
    assert NotificationKind.UPDATE in kinds
    assert [(a.action, a.result, a.actor) for a in harness.audit()] == [("snooze", "ok", USER)]


@pytest.mark.parametrize(
    ("words", "user", "kind", "target"),
    [
        ("resync {id}", USER, "resync", "error:{id}"),
        ("resync --failed --mapping CUSTOMER", USER, "resync_failed", "failed:CUSTOMER"),
        ("couple customer:10000 account:6f1c0c7e-1111-2222-3333-444455556666", ADMIN, "couple", None),
        ("couple --match CUSTOMER", ADMIN, "couple_match", "mapping:CUSTOMER"),
        ("uncouple customer:10000", ADMIN, "uncouple", "record:customer:10000"),
        ("restore {id}", ADMIN, "restore_record", "error:{id}"),
        ("delete-record {id}", ADMIN, "delete_record", "error:{id}"),
        ("sync CUSTOMER", USER, "sync", "sync:CUSTOMER"),
        ("sync", ADMIN, "sync", "sync:*"),
        ("run CUSTOMER", ADMIN, "run", "CUSTOMER"),
    ],
)
def test_work_commands_are_queued_and_answered_at_once(
    harness: Harness, words: str, user: str, kind: str, target: str | None
) -> None:
    _mappings(harness)
    (error_id,) = _errors(harness)
    path = harness.command(words.format(id=error_id), user=user)
    assert "Queued" in harness.answer_text(path)
    (item,) = harness.work()
    assert item.kind == kind and item.status == WorkStatus.QUEUED
    assert item.requested_by == user and item.response_url and item.response_url.endswith(path)
    if target is not None:
        assert item.payload["target"] == target.format(id=error_id)
    (entry,) = harness.audit()
    assert (entry.action, entry.result, entry.actor) == (kind, "queued", user)


def test_resync_of_several_errors_queues_one_item_each(harness: Harness) -> None:
    ids = _errors(harness, 3)
    path = harness.command("resync " + " ".join(map(str, ids)))
    harness.answers(path, 3)
    assert sorted(item.payload["error_id"] for item in harness.work()) == sorted(ids)


@pytest.mark.parametrize(
    "words",
    [
        "couple customer:10000 account:6f1c0c7e-1111-2222-3333-444455556666",
        "couple --match CUSTOMER",
        "uncouple customer:10000",
        "restore {id}",
        "delete-record {id}",
        "sync",
        "run CUSTOMER",
        "schedule CUSTOMER every 1h",
        "pause CUSTOMER",
        "resume CUSTOMER",
        "purge --all",
        "purge --older-than 7d",
    ],
)
def test_admin_commands_are_refused_to_others_and_audited(harness: Harness, words: str) -> None:
    _mappings(harness)
    (error_id,) = _errors(harness)
    text = harness.answer_text(harness.command(words.format(id=error_id), user=USER))
    assert "Only sync admins" in text and f"<@{ADMIN}>" in text
    assert harness.work() == []
    assert [entry.result for entry in harness.audit()] == ["refused"]
    assert harness.fake.calls("views.open") == []
    with Session(harness.db) as session:
        assert session.get(SyncError, error_id) is not None
        customer = session.exec(select(Mapping).where(Mapping.name == "CUSTOMER")).one()
        assert customer.interval_minutes is None and not customer.paused


def test_purge_opens_the_modal_with_the_count(harness: Harness) -> None:
    _errors(harness, 2, created_at=utcnow() - timedelta(days=10))
    _errors(harness, 1)
    harness.command("purge --older-than 7d", user=ADMIN)
    (call,) = harness.calls("views.open")
    view = call.body["view"]
    assert view["callback_id"] == "purge_confirm_modal"
    assert '"older_than_days": 7' in view["private_metadata"]
    assert "2" in str(view["blocks"])
    with Session(harness.db) as session:
        assert len(session.exec(select(SyncError)).all()) == 3


def test_purge_in_hours_is_a_usage_error_in_slack(harness: Harness) -> None:
    text = harness.answer_text(harness.command("purge --older-than 12h", user=ADMIN))
    assert "whole days" in text and "purge --older-than DURATION" in text


def test_schedule_shows_and_changes_the_schedule(harness: Harness) -> None:
    _mappings(harness)
    assert "CUSTOMER" in harness.answer_text(harness.command("schedule"))
    assert "CUSTOMER" in harness.answer_text(harness.command("schedule CUSTOMER every 1h", user=ADMIN))
    harness.answers(harness.command("pause CUSTOMER", user=ADMIN))
    with Session(harness.db) as session:
        customer = session.exec(select(Mapping).where(Mapping.name == "CUSTOMER")).one()
        assert customer.interval_minutes == 60 and customer.paused
    harness.answers(harness.command("resume CUSTOMER", user=ADMIN))
    with Session(harness.db) as session:
        assert not session.exec(select(Mapping).where(Mapping.name == "CUSTOMER")).one().paused
    assert [(a.action, a.result) for a in harness.audit()] == [
        ("schedule", "ok"),
        ("pause", "ok"),
        ("resume", "ok"),
    ]


def test_doctor_acks_then_answers_when_done(harness: Harness) -> None:
    path = harness.command("doctor")
    assert "Checking" in harness.answer_text(path, 1)
    assert "BC_API_URL" in harness.answer_text(path, 2)
