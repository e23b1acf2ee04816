"""Channel notifications: anatomy of one error, buttons per category, states, repeats, causes, digests."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest

from bot.blocks import (
    Message,
    build_cause_message,
    build_digest_message,
    build_digest_page,
    build_error_message,
    build_repeat_reply,
    build_state_reply,
    build_text,
    digest_pages,
)
from storage.models import Category, ErrorStatus, SyncError, System
from tests.bot.blocks.checks import action_ids, all_text, buttons, valid_message
from tests.bot.blocks.factory import T0, error

CONTRACT_IDS = {"resync", "couple", "uncouple", "restore_record", "delete_record", "delete_error", "snooze"}
CONTRACT_IDS |= {"show_details", "purge_older_than", "purge_all"}


def test_error_message_has_the_sentry_like_anatomy() -> None:
    payload = valid_message(build_error_message(error(occurrences=3, last_seen_at=T0 + timedelta(hours=1))))
    text = all_text(payload)
    assert "🔒 *Missing permission: Adatum Corporation*" in text
    assert "|Business Central customer 10000 Adatum Corporation>" in text
    assert "↔ Dataverse account" in text
    assert "missing prvCreateAccount privilege" in text
    assert "💡 An admin must add prvCreateAccount" in text
    assert "Mapping *CUSTOMER*" in text and "Business Central → Dataverse" in text
    assert "3 occurrences" in text
    assert f"<!date^{int(T0.timestamp())}^" in text  # first seen, in each reader's time zone
    assert "Error #17" in text and "job 6f1c2b3a" in text
    assert payload["text"].startswith("🔒 Missing permission: Adatum Corporation")


def test_a_link_only_where_the_record_has_a_url() -> None:
    text = all_text(valid_message(build_error_message(error())))
    assert text.count("<https://") == 1
    text = all_text(valid_message(build_error_message(error(source_url=None))))
    assert "<https://" not in text and "Business Central customer 10000 Adatum Corporation" in text
    with_both = error(
        destination_url="https://org.crm4.dynamics.com/main.aspx?etn=account&id=1", destination_name="Adatum"
    )
    text = all_text(valid_message(build_error_message(with_both)))
    assert "<https://org.crm4.dynamics.com/main.aspx?etn=account&id=1|Dataverse account Adatum>" in text


def test_untrusted_text_is_escaped_and_cut() -> None:
    nasty = error(
        message="<!channel> & <https://evil|click> " + "x" * 400,
        source_name="A&B <Ltd>",
        hint="use <b>",
        source_url="https://bc/?a=1|b>c",
    )
    payload = valid_message(build_error_message(nasty))
    text = all_text(payload)
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in text
    assert "A&amp;B &lt;Ltd&gt;" in text
    assert "use &lt;b&gt;" in text
    assert "<https://bc/?a=1%7Cb%3Ec|" in text
    quoted = next(line for line in text.splitlines() if line.startswith(">"))
    assert len(html.unescape(quoted[1:])) <= 250 and quoted.endswith("…")  # cut before escaping
    assert "<!channel>" not in payload["text"]


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        (Category.DELETED_RECORD, ["restore_record", "delete_record", "uncouple", "resync"]),
        (Category.DEPENDENCY_NOT_COUPLED, ["couple_dependency", "resync"]),
        (Category.UPDATE_CONFLICT, ["keep_bc", "keep_dataverse", "resync"]),
        (Category.PERMISSIONS, ["resync"]),
        (Category.CREDENTIALS, ["resync"]),
        (Category.EXCHANGE_RATE, ["resync"]),
        (Category.ADMIN_INTEGRATION_USER, ["resync"]),
        (Category.ADMIN_MODE, ["resync"]),
        (Category.THROTTLED, ["resync"]),
        (Category.VALIDATION, ["resync", "couple"]),
        (Category.OTHER, ["resync"]),
    ],
)
def test_buttons_fit_the_category(category: Category, expected: list[str]) -> None:
    payload = valid_message(build_error_message(error(category=category)))
    assert action_ids(payload) == [*expected, "snooze", "show_details", "delete_error"]
    assert all(button["value"] == "17" for button in buttons(payload))


def test_setup_categories_say_once_fixed_and_conflicts_name_both_apps() -> None:
    labels = [b["text"]["text"] for b in buttons(build_error_message(error()).to_dict())]
    assert labels[0] == "Re-sync once fixed"
    labels = [
        b["text"]["text"]
        for b in buttons(build_error_message(error(category=Category.UPDATE_CONFLICT)).to_dict())
    ]
    assert labels[:2] == ["Keep Business Central's values", "Keep Sales' values"]


def test_destructive_buttons_ask_first() -> None:
    payload = valid_message(build_error_message(error(category=Category.DELETED_RECORD)))
    by_id = {button["action_id"]: button for button in buttons(payload)}
    for action in ("delete_record", "uncouple", "delete_error"):
        assert by_id[action]["confirm"]["style"] == "danger"
        assert by_id[action]["confirm"]["text"]["text"]
    for action in ("restore_record", "snooze", "show_details"):
        assert "confirm" not in by_id[action]  # restorative actions stay one click


def test_resolved_replaces_buttons_but_keeps_details() -> None:
    open_payload = build_error_message(error()).to_dict()
    resolved = error(
        status=ErrorStatus.RESOLVED,
        resolved_by="U0123ABC",
        resolved_at=T0 + timedelta(minutes=17),
        resolution="re-synced <ok>",
    )
    payload = valid_message(build_error_message(resolved))
    assert buttons(payload) == []
    assert payload["blocks"][:-2] == open_payload["blocks"][:-2]  # title, records, message, hint, context
    state = payload["blocks"][-1]["text"]["text"]
    assert state.startswith("✅ Resolved by <@U0123ABC> at <!date^")
    assert state.endswith("— re-synced &lt;ok&gt;")


def test_snoozed_shows_until_when() -> None:
    snoozed = error(status=ErrorStatus.SNOOZED, snoozed_until=T0 + timedelta(hours=4), resolved_by="U0123ABC")
    payload = valid_message(build_error_message(snoozed))
    assert buttons(payload) == []
    assert payload["blocks"][-1]["text"]["text"].startswith("😴 Snoozed until <!date^")


def test_a_terminal_user_is_named_not_mentioned() -> None:
    resolved = error(status=ErrorStatus.RESOLVED, resolved_by="alice@host", resolved_at=T0)
    assert "Resolved by alice@host" in all_text(build_error_message(resolved).to_dict())


def test_job_level_error_without_record() -> None:
    credentials = error(
        category=Category.CREDENTIALS,
        source_key=None,
        source_name=None,
        source_url=None,
        source_system=System.DATAVERSE,
        source_table="",
        destination_table="",
        job_id=None,
        code=None,
    )
    payload = valid_message(build_error_message(credentials))
    assert "*Sign-in failed*" in all_text(payload)


def test_repeat_reply() -> None:
    payload = valid_message(build_repeat_reply(error(occurrences=4, last_seen_at=T0 + timedelta(days=1))))
    assert "Happened again: 4 times in all" in all_text(payload)
    assert "happened again (4 times)" in payload["text"]


def test_cause_message_names_the_cause_and_the_count() -> None:
    payload = valid_message(build_cause_message(error(), 214))
    text = all_text(payload)
    assert "Missing privilege prvCreateAccount — 214 records failed" in text
    assert "The list is in the thread." in text
    assert action_ids(payload)[0] == "resync" and buttons(payload)[0]["value"] == "17"
    other = valid_message(build_cause_message(error(category=Category.EXCHANGE_RATE, facts={}), 1))
    assert "Missing exchange rate — 1 record failed" in all_text(other)


def _burst(count: int) -> list[SyncError]:
    return [
        error(
            id=100 + n,
            mapping=("CUSTOMER", "CONTACT")[n % 2],
            category=(Category.PERMISSIONS, Category.VALIDATION, Category.DELETED_RECORD)[n % 3],
            source_name=f"Record {n % 7}",
            message="m" * 300 + "\nsecond line",
            created_at=T0 + timedelta(seconds=n),
        )
        for n in range(count)
    ]


def test_digest_counts_by_mapping_and_category() -> None:
    payload = valid_message(build_digest_message(_burst(30)))
    text = all_text(payload)
    assert payload["text"] == "30 new sync errors"
    assert "By mapping and category" in text and "*CUSTOMER* · 🔒 Missing permission: *5*" in text
    assert "Most affected records" in text
    assert "The list is in the thread." in text


def test_digest_pages_stay_inside_limits() -> None:
    burst = _burst(1000)
    pages = digest_pages(burst)
    assert sum(len(page) for page in pages) == 1000
    for number, page in enumerate(pages, start=1):
        payload = valid_message(build_digest_page(page, page=number, pages=len(pages)))
        ids = re.findall(r"`#(\d+)`", all_text(payload))
        assert [int(i) for i in ids] == [e.id for e in page]
        assert "\nsecond line" not in all_text(payload)


def test_an_oversized_digest_page_is_cut_with_a_count() -> None:
    huge = [error(id=n, source_name="N" * 240, message="x" * 250) for n in range(1, 201)]
    payload = valid_message(build_digest_page(huge, page=1, pages=1))
    text = all_text(payload)
    shown = len(re.findall(r"`#\d+`", text))
    assert 0 < shown < 200 and f"… and {200 - shown} more" in text


def test_build_text() -> None:
    message = build_text("🧹 Deleted *1,234* entries older than 7 days.")
    payload = valid_message(message)
    assert payload["blocks"][0]["text"]["text"] == message.text
    assert valid_message(build_text("line\n" * 3000))
    assert isinstance(build_text(""), Message) and valid_message(build_text(""))


def test_to_dict_is_json() -> None:
    json.dumps(build_error_message(error()).to_dict())


def test_state_reply_for_a_digest_thread() -> None:
    resolved = error(
        status=ErrorStatus.RESOLVED, resolved_by="U0123ABC", resolved_at=T0, resolution="coupled"
    )
    payload = valid_message(build_state_reply(resolved))
    line = payload["text"]
    assert payload["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": line}}]
    assert line.startswith("`#17` <https://businesscentral.dynamics.com/")
    assert (
        "|Business Central customer 10000 Adatum Corporation>: ✅ Resolved by <@U0123ABC> at <!date^" in line
    )
    assert line.endswith("— coupled")
    snoozed = all_text(valid_message(build_state_reply(error(status=ErrorStatus.SNOOZED, snoozed_until=T0))))
    assert ": 😴 Snoozed until <!date^" in snoozed
    assert all_text(valid_message(build_state_reply(error(), locale="cs"))).endswith(": otevřená")
    assert ": ✅ Vyřešil(a) <@U0123ABC> <!date^" in all_text(
        valid_message(build_state_reply(resolved, locale="cs"))
    )
