"""Command and click replies: summary, help, usage errors, lists, details, status, audit, refusals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.blocks import (
    AdminAction,
    build_action_result,
    build_already_done,
    build_audit,
    build_error_details,
    build_error_list,
    build_help,
    build_refusal,
    build_status,
    build_summary,
    build_usage_error,
    more_value,
    read_more_value,
)
from bot.blocks.wording import Wording
from bot.commands import USAGE
from storage.models import Category, ErrorStatus
from tests.bot.blocks.checks import action_ids, all_text, buttons, valid_message
from tests.bot.blocks.factory import T0, audit, error, job


def test_summary_counts_last_jobs_and_purge_buttons() -> None:
    counts = [("CUSTOMER", "permissions", 12), ("CONTACT", "deleted-record", 3)]
    jobs = [
        job(),
        job(started_at=T0 - timedelta(hours=1), message="the earlier run"),
        job(mapping="CONTACT", finished_at=None),
    ]
    payload = valid_message(build_summary(counts, jobs))
    text = all_text(payload)
    assert "*15 open errors*" in text and "*CUSTOMER* · 🔒 Missing permission: *12*" in text
    assert "inserted 3 · failed 1" in text and "the earlier run" not in text  # only the last job per mapping
    assert "⏳ *CONTACT*" in text
    purge = {b["action_id"]: b for b in buttons(payload)}
    assert purge["purge_older_than"]["value"] == "7"
    assert purge["purge_older_than"]["text"]["text"] == "Delete entries older than 7 days"
    assert purge["purge_all"]["text"]["text"] == "Delete all entries"
    assert all(b["confirm"]["style"] == "danger" for b in purge.values())


def test_summary_when_all_is_well() -> None:
    payload = valid_message(build_summary([], []))
    assert "No open errors" in all_text(payload) and "No synchronization has run yet." in all_text(payload)


def test_help_lists_every_subcommand_with_the_contract_words() -> None:
    text = all_text(valid_message(build_help()))
    for usage in USAGE.values():
        for form in re.split(r" / | · ", usage):
            assert f"`/sync-errors {form}`".replace("<", "&lt;") in text, form


def test_help_for_an_unknown_word_and_for_one_topic() -> None:
    payload = valid_message(build_help(unknown_word="<banana>"))
    assert "I don't know “&lt;banana&gt;”" in all_text(payload)
    one = all_text(valid_message(build_help(topic="purge")))
    assert "purge --older-than" in one and "list [--mapping" not in one


def test_wording_help_lines_match_the_grammar() -> None:
    forms = {form for usage in USAGE.values() for form in re.split(r" / | · ", usage)}
    assert {syntax for syntax, _ in Wording("en").help_lines() if syntax} == forms


def test_usage_error_names_the_problem_and_shows_the_usage() -> None:
    payload = valid_message(
        build_usage_error("“banana” is not a duration <x>", "/sync-errors snooze ID DURATION")
    )
    text = all_text(payload)
    assert "⚠️ “banana” is not a duration &lt;x&gt;" in text
    assert "Usage: `/sync-errors snooze ID DURATION`" in text


def test_error_list_with_more_button() -> None:
    errors = [error(id=n) for n in range(30, 10, -1)]
    payload = valid_message(build_error_list(errors, next_before_id=11, query="list --mapping CUSTOMER"))
    assert action_ids(payload)[:-1] == ["show_details"] * 20
    more = buttons(payload)[-1]
    assert more["action_id"] == "list_more"
    assert read_more_value(more["value"]) == (11, "list --mapping CUSTOMER")


def test_long_error_list_is_cut_and_the_cursor_follows() -> None:
    errors = [error(id=n, source_name="N" * 240, message="y" * 250) for n in range(500, 400, -1)]
    payload = valid_message(build_error_list(errors, next_before_id=None))
    shown = action_ids(payload).count("show_details")
    assert 0 < shown <= 20
    before, _query = read_more_value(buttons(payload)[-1]["value"])
    assert before == errors[shown - 1].id


def test_empty_list_and_last_page() -> None:
    assert "No errors match." in all_text(valid_message(build_error_list([], next_before_id=None)))
    payload = valid_message(build_error_list([error()], next_before_id=None))
    assert "list_more" not in action_ids(payload)


def test_more_value_round_trip() -> None:
    assert read_more_value(more_value(42)) == (42, "")


def test_error_details_full_text_facts_and_links() -> None:
    long = error(detail="line <1>\n" + "z" * 5000, destination_url="https://dv/acc")
    payload = valid_message(build_error_details(long))
    text = all_text(payload)
    assert "Error #17 — Missing permission: Adatum Corporation" in text
    assert "line &lt;1&gt;" in text and "• privilege: prvCreateAccount" in text
    links = [b for b in buttons(payload) if b["action_id"] == "open_record"]
    assert [b["url"] for b in links] == [long.source_url, "https://dv/acc"]
    assert "resync" in action_ids(payload) and "show_details" not in action_ids(payload)


def test_details_of_a_resolved_error_have_no_actions() -> None:
    resolved = error(status=ErrorStatus.RESOLVED, resolved_by="U0123ABC", resolved_at=T0, detail="")
    payload = valid_message(build_error_details(resolved))
    assert "No further text." in all_text(payload)
    assert action_ids(payload) == ["open_record"]


def test_status_lists_jobs_newest_first_within_limits() -> None:
    jobs = [job(started_at=T0 + timedelta(minutes=n), message=f"run {n} " + "m" * 200) for n in range(300)]
    payload = valid_message(build_status(jobs))
    text = all_text(payload)
    assert text.index("run 299") < text.index("run 298")
    assert "more" in text
    assert "No synchronization has run yet." in all_text(valid_message(build_status([])))


def test_audit_lines() -> None:
    payload = valid_message(
        build_audit([audit(), audit(actor="bob", door="terminal", result="failed", detail="x<y")])
    )
    text = all_text(payload)
    assert "<@U0123ABC> · `resync` · error:17 · *ok* (Slack)" in text
    assert "bob" in text and "*failed* (terminal) — x&lt;y" in text
    assert "Nothing recorded yet." in all_text(valid_message(build_audit([])))


def test_refusal_names_the_admins() -> None:
    payload = valid_message(build_refusal("purge", admins=["U01AAAA", "U02BBBB"]))
    assert all_text(payload) == "⛔ Only sync admins may delete error entries. Ask <@U01AAAA> or <@U02BBBB>."
    assert payload["text"] == all_text(payload)
    assert "none is set up yet" in all_text(valid_message(build_refusal("couple", admins=[])))


@pytest.mark.parametrize(
    ("action", "sentence"),
    [
        (AdminAction.PURGE, "⛔ Only sync admins may delete error entries."),
        (AdminAction.COUPLE, "⛔ Only sync admins may couple records."),
        (AdminAction.UNCOUPLE, "⛔ Only sync admins may remove couplings."),
        (AdminAction.RESTORE_RECORD, "⛔ Only sync admins may restore records."),
        (AdminAction.DELETE_RECORD, "⛔ Only sync admins may delete records."),
        (AdminAction.DELETE_ERROR, "⛔ Only sync admins may delete entries from the error log."),
        (AdminAction.SYNC, "⛔ Only sync admins may synchronize every mapping at once."),
        (AdminAction.SCHEDULE, "⛔ Only sync admins may change schedules."),
        (AdminAction.RUN, "⛔ Only sync admins may start a scheduled sync by hand."),
    ],
)
def test_refusal_says_what_only_admins_may_do(action: AdminAction, sentence: str) -> None:
    text = all_text(valid_message(build_refusal(action, admins=["U01ADMIN", "U02ADMIN", "U03ADMIN"])))
    assert text == f"{sentence} Ask <@U01ADMIN>, <@U02ADMIN>, or <@U03ADMIN>."
    assert (
        all_text(valid_message(build_refusal(action.value, admins=["U01ADMIN"])))
        == f"{sentence} Ask <@U01ADMIN>."
    )
    assert "do this" not in all_text(valid_message(build_refusal(action, admins=[])))


def test_refusal_in_czech_and_dutch() -> None:
    cs = all_text(
        valid_message(build_refusal("restore_record", admins=["U01ADMIN", "U02ADMIN"], locale="cs"))
    )
    nl = all_text(
        valid_message(build_refusal("restore_record", admins=["U01ADMIN", "U02ADMIN"], locale="nl"))
    )
    assert (
        cs == "⛔ Jen správci synchronizace smějí obnovovat záznamy. Požádejte <@U01ADMIN> nebo <@U02ADMIN>."
    )
    assert nl == (
        "⛔ Alleen synchronisatiebeheerders mogen records herstellen. "
        "Vraag het aan <@U01ADMIN> of <@U02ADMIN>."
    )


def test_refusal_names_at_most_ten_admins_and_words_unknown_actions() -> None:
    admins = [f"U{n:02d}AAA" for n in range(15)]
    text = all_text(valid_message(build_refusal("purge", admins=admins)))
    assert "<@U09AAA>" in text and "<@U10AAA>" not in text
    assert "may do this." in all_text(valid_message(build_refusal("something-new", admins=["U01ADMIN"])))


def test_already_done() -> None:
    text = all_text(valid_message(build_already_done(audit())))
    assert text.startswith("Already re-synced by <@U0123ABC> at <!date^")
    resolved = error(
        status=ErrorStatus.RESOLVED, resolved_by="U0123ABC", resolved_at=T0, resolution="coupled"
    )
    assert "Resolved by <@U0123ABC>" in all_text(valid_message(build_already_done(resolved)))
    snoozed = error(status=ErrorStatus.SNOOZED, snoozed_until=T0)
    assert "Already snoozed." in all_text(valid_message(build_already_done(snoozed)))
    assert "still open" in all_text(valid_message(build_already_done(error(category=Category.OTHER))))


def test_action_result() -> None:
    assert all_text(valid_message(build_action_result(True, "Re-sync queued."))) == "✅ Re-sync queued."
    assert "did not work: refused" in all_text(valid_message(build_action_result(False, "refused")))
