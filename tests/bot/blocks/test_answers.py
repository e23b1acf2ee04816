"""Answers to work asked for and to actions done at once: queued, already queued, deleted, problems."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.blocks import (
    Problem,
    build_already_queued,
    build_entry_deleted,
    build_failure,
    build_input_error,
    build_problem,
    build_purged,
    build_queued,
    build_snoozed,
    build_usage_error,
)
from bot.blocks.answers import target_label
from bot.blocks.wording import Wording
from tests.bot.blocks.checks import all_text, valid_message
from tests.bot.blocks.factory import T0

DATE = f"<!date^{int(T0.timestamp())}^{{date_short_pretty}} at {{time}}|2026-11-20 08:15 UTC>"
WORK_KINDS = (
    "resync",
    "resync_failed",
    "couple",
    "couple_match",
    "couple_dependency",
    "uncouple",
    "restore_record",
    "delete_record",
    "keep_bc",
    "keep_dataverse",
    "sync",
    "run",
)


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_queued_answers_later_in_the_conversation() -> None:
    payload = valid_message(build_queued("resync", "error:17"))
    line = "⏳ Queued: Re-sync of #17. I will answer here when it is done."
    assert payload == {"text": line, "blocks": [_section(line)]}


def test_queued_for_many_errors_points_at_their_messages() -> None:
    text = all_text(valid_message(build_queued("resync", "error:17", answer_later=False)))
    assert text == "⏳ Queued: Re-sync of #17. Each error's message changes when its work is done."


@pytest.mark.parametrize(
    ("target", "label"),
    [
        ("error:17", "#17"),
        ("mapping:CUSTOMER", "`mapping:CUSTOMER`"),
        ("record:customer:<10000>", "`record:customer:&lt;10000&gt;`"),
        ("error:x", "`error:x`"),
        ("CUSTOMER", "`CUSTOMER`"),
    ],
)
def test_targets_are_error_numbers_or_escaped_code(target: str, label: str) -> None:
    assert target_label(target) == label


def test_a_long_target_is_cut() -> None:
    label = target_label("couple:" + "x" * 300)
    assert len(label) <= 122 and label.endswith("…`")


@pytest.mark.parametrize("kind", WORK_KINDS)
def test_every_work_kind_has_a_noun_in_every_language(kind: str) -> None:
    for locale in ("en", "cs", "nl"):
        noun = Wording(locale).work(kind)
        assert noun and noun != kind
        valid_message(build_queued(kind, "error:1", locale=locale))


def test_an_unknown_work_kind_is_shown_escaped() -> None:
    assert "Queued: a&lt;b of #1." in all_text(valid_message(build_queued("a<b", "error:1")))


def test_already_queued_says_by_whom_and_when() -> None:
    payload = valid_message(build_already_queued("couple", "mapping:CUSTOMER", by="U0123ABC", at=T0))
    line = f"⏳ Coupling of `mapping:CUSTOMER` is already queued by <@U0123ABC> ({DATE})."
    assert payload == {"text": line, "blocks": [_section(line)]}


def test_already_running_and_asked_from_the_terminal() -> None:
    text = all_text(
        valid_message(build_already_queued("restore_record", "error:3", by="alice", at=T0, running=True))
    )
    assert text == f"⏳ Restoring the record of #3 is already running, asked for by alice ({DATE})."
    assert "by ? (" in all_text(valid_message(build_already_queued("resync", "error:3", by=None, at=T0)))


def test_entry_deleted_and_purged() -> None:
    deleted = valid_message(build_entry_deleted(17))
    line = "✅ Entry #17 deleted (the records stay as they are)."
    assert deleted == {"text": line, "blocks": [_section(line)]}
    assert all_text(valid_message(build_purged(1))) == "✅ Deleted 1 error entry."
    assert all_text(valid_message(build_purged(1234))) == "✅ Deleted 1,234 error entries."


def test_snoozed_until_when() -> None:
    text = all_text(valid_message(build_snoozed(17, T0 + timedelta(hours=4))))
    assert text.startswith("✅ #17: 😴 Snoozed until <!date^")
    assert all_text(valid_message(build_snoozed(17, None))) == "✅ #17: 😴 Snoozed"


@pytest.mark.parametrize("problem", list(Problem))
def test_every_problem_has_our_words(problem: Problem) -> None:
    for locale in ("en", "cs", "nl"):
        text = all_text(valid_message(build_problem(problem, locale=locale)))
        assert text.startswith("⚠️ ") and problem.value not in text


def test_problem_and_failure() -> None:
    payload = valid_message(build_problem(Problem.NO_ERROR))
    line = "⚠️ That did not work: This button does not name an error."
    assert payload == {"text": line, "blocks": [_section(line)]}
    failure = all_text(valid_message(build_failure("mapping <CUSTOMER> & co is unknown")))
    assert failure == "⚠️ That did not work: mapping &lt;CUSTOMER&gt; &amp; co is unknown"


def test_usage_error_in_our_words() -> None:
    payload = valid_message(build_usage_error(Problem.WHOLE_DAYS, "/sync-errors purge --older-than DURATION"))
    assert payload["blocks"] == [
        _section(
            "⚠️ In Slack, --older-than takes whole days (like 7d); the terminal takes hours too.\n"
            "Usage: `/sync-errors purge --older-than DURATION`"
        )
    ]


def test_answers_speak_czech_and_dutch() -> None:
    assert all_text(valid_message(build_queued("resync", "error:17", locale="cs"))) == (
        "⏳ Zařazeno do fronty: Opětovná synchronizace (#17). Až to bude hotové, odpovím tady."
    )
    assert all_text(valid_message(build_queued("resync", "error:17", locale="nl"))) == (
        "⏳ In de wachtrij: Opnieuw synchroniseren van #17. Ik antwoord hier zodra het klaar is."
    )
    czech = [all_text(build_purged(n, locale="cs").to_dict()) for n in (1, 3, 5)]
    assert czech == [
        "✅ Odstraněna 1 položka chyby.",
        "✅ Odstraněny 3 položky chyb.",
        "✅ Odstraněno 5 položek chyb.",
    ]
    assert all_text(build_purged(2, locale="nl").to_dict()) == "✅ 2 foutvermeldingen verwijderd."
    queued = all_text(
        valid_message(build_already_queued("uncouple", "error:4", by="U01ADMIN", at=T0, locale="nl"))
    )
    assert queued.startswith(
        "⏳ Verwijderen van de koppeling van #4 staat al in de wachtrij, aangevraagd door <@U01ADMIN>"
    )


def test_input_errors_for_a_modal() -> None:
    assert build_input_error("couple_reference", Problem.DIALOG_NAMES_NO_ERROR) == {
        "couple_reference": "This dialog names no error; close it."
    }
    assert build_input_error("b", Problem.DIALOG_NAMES_NO_ERROR, locale="nl") == {
        "b": "Dit dialoogvenster noemt geen fout; sluit het."
    }
    long = build_input_error("snooze_duration", "“x” is not a duration " * 20, limit=150)
    assert len(long["snooze_duration"]) == 150 and long["snooze_duration"].endswith("…")
