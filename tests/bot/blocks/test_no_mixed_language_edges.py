"""The operations' refusals, the doctor's findings and the terminal's labels in cs and nl: no English."""

from __future__ import annotations

import pytest

from bot import blocks as b
from bot.blocks.wording import Word, Wording
from bot.doctor.result import CHECK_TITLES, CheckResult
from bot.operations import schedule
from bot.operations.base import InvalidInput, NotAllowed, NotFound, OperationError
from bot.phrases import PHRASES, english, say
from tests.bot.blocks.checks import all_text
from tests.bot.blocks.test_no_mixed_language import READERS, _values, english_in

SAME_IN_EVERY_LANGUAGE = {Word.CLI_ID, Word.CLI_CODE}  # "ID", and Dutch "Code:"


def _refusals() -> list[OperationError]:
    said = [say(key, **_values(PHRASES[key])) for key in PHRASES if key.startswith("failure.")]
    return [InvalidInput(phrase) for phrase in said] + [NotFound(say("failure.no_entry", id=17))]


def test_a_refusal_keeps_its_english_for_logs() -> None:
    refusal = NotFound(say("failure.no_entry", id=17))
    assert str(refusal) == "There is no error entry #17 (it may have been purged)."
    assert refusal.said == say("failure.no_entry", id=17)
    assert InvalidInput("plain words").said == "plain words"
    assert str(NotAllowed("couple")) == "Only sync admins may do 'couple'."


@pytest.mark.parametrize("locale", READERS)
def test_the_operations_refusals_are_worded_in_the_readers_language(locale: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        schedule.known_fixed_job("nope")
    mixed = {}
    for refusal in [raised.value, *_refusals()]:
        text = all_text(b.build_failure(refusal.said, locale=locale).to_dict())
        if english_in(text, locale):
            mixed[str(refusal)] = english_in(text, locale)
    assert not mixed, f"{locale}: English in {mixed}"


@pytest.mark.parametrize("locale", READERS)
def test_the_doctors_findings_and_fixes_are_worded_in_the_readers_language(locale: str) -> None:
    keys = [key for key in PHRASES if key.startswith("doctor.")]
    results = [
        CheckResult(check, False, say(key, **_values(PHRASES[key])), say(key, **_values(PHRASES[key])))
        for check, key in zip(list(CHECK_TITLES) * len(keys), keys, strict=False)
    ]
    text = all_text(b.build_doctor_report(results, locale=locale).to_dict())
    assert not english_in(text, locale), english_in(text, locale)
    assert results[0].detail == english(results[0].found)  # the JSON keeps the English


@pytest.mark.parametrize("locale", READERS)
def test_the_terminals_labels_are_worded_in_the_readers_language(locale: str) -> None:
    w = Wording(locale)
    labels = [word for word in Word if word.name.startswith("CLI_") and word not in SAME_IN_EVERY_LANGUAGE]
    untranslated = [word.value for word in labels if w.word(word) == word.value]
    assert not untranslated, f"{locale}: {untranslated}"


@pytest.mark.parametrize("locale", READERS)
def test_the_doctors_privilege_captions_are_worded_in_the_readers_language(locale: str) -> None:
    from bot.doctor.privileges import _captions

    names = ["prvCreateAccount", "prvWriteAccount", "prvAppendToTransactionCurrency"]
    fix = say("doctor.lacks_privileges_fix", privileges=_captions(names), user="X", role="Y")
    text = all_text(
        b.build_doctor_report([CheckResult("user-privileges", False, fix, fix)], locale=locale).to_dict()
    )
    assert not english_in(text, locale), english_in(text, locale)
    assert " on " not in text and " and " not in text, text
    assert english(fix).count(" on ") == 3 and ", prvWriteAccount (Write on Account) and " in english(fix)


@pytest.mark.parametrize("locale", READERS)
def test_the_doctors_access_modes_are_worded_in_the_readers_language(locale: str) -> None:
    from bot.doctor.user import ACCESS_MODES

    modes = [say(f"access_mode.{name}") for name in ACCESS_MODES.values()]
    found = [say("doctor.has_access_mode", user="X", mode=mode) for mode in modes]
    results = [CheckResult("user-non-interactive", True, phrase) for phrase in found]
    text = all_text(b.build_doctor_report(results, locale=locale).to_dict())
    assert not any(english(mode) in text for mode in modes if english(mode) != "Read"), text
    assert [english(mode) for mode in modes][0] == "Read-Write"
