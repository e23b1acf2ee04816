"""Translations: Slack locales map to ours, and every message of the blocks exists in cs and nl."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from bot.blocks import build_error_message, build_queued, build_refusal, build_summary
from bot.blocks.wording import Wording
from bot.i18n import LOCALES, catalog_path, gettext_for, normalize_locale
from tests.bot.blocks.checks import all_text
from tests.bot.blocks.factory import error

WORDING = Path(__file__).resolve().parents[2] / "bot" / "blocks" / "wording.py"
PHRASES = WORDING.parents[1] / "phrases.py"
KEYWORDS = {"_": None, "_n": (1, 2), "_p": ((1, "c"), 2)}
_FIELD = re.compile(r"\{(\w*)\}")
Msgid = str | tuple[str, ...]


def _used_in_context() -> set[tuple[Msgid, str | None]]:
    return {
        (message, context)
        for path in (WORDING, PHRASES)
        for _line, message, _comments, context in extract_from_file("python", path, keywords=KEYWORDS)
    }


def _used() -> set[Msgid]:
    return {message for message, _context in _used_in_context()}


def _key(msgid: Msgid) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


@pytest.mark.parametrize(
    ("slack", "ours"),
    [
        ("cs-CZ", "cs"),
        ("nl-NL", "nl"),
        ("nl_BE", "nl"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("de-DE", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_slack_locales_map_to_ours(slack: str | None, ours: str) -> None:
    assert normalize_locale(slack) == ours


def test_the_blocks_use_gettext_messages() -> None:
    assert len(_used()) > 200


def test_only_wording_calls_gettext() -> None:
    blocks = WORDING.parent
    handlers = blocks.parents[1] / "handlers"
    assert not (handlers / "texts.py").exists()
    for path in blocks.glob("*.py"):
        assert path == WORDING or "gettext" not in path.read_text(encoding="utf-8"), path
    for path in handlers.rglob("*.py"):
        code = path.read_text(encoding="utf-8")
        assert "gettext" not in code and "Wording" not in code, path


@pytest.mark.parametrize(
    "msgid",
    [
        "⏳ Queued: {work} of {target}.",
        "⏳ {work} of {target} is already queued by {user} ({date}).",
        "🩺 Checking the integration setup… I will answer here.",
        "Scheduled syncs",
        "restore records",
        "start a scheduled sync by hand",
        "This button does not name an error.",
        ("Deleted {n} error entry.", "Deleted {n} error entries."),
        ("{n} check needs attention.", "{n} checks need attention."),
    ],
)
def test_the_former_handler_sentences_are_messages(msgid: Msgid) -> None:
    assert msgid in _used()


@pytest.mark.parametrize("locale", ["cs", "nl"])
def test_every_message_has_a_translation_with_the_same_placeholders(locale: str) -> None:
    with catalog_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    for msgid, context in _used_in_context():
        message = catalog.get(_key(msgid), context=context)
        assert message is not None, f"{locale}: no entry for {msgid!r} ({context})"
        assert not message.fuzzy, f"{locale}: fuzzy {msgid!r}"
        strings = (message.string,) if isinstance(message.string, str) else tuple(message.string or ())
        assert len(strings) == (catalog.num_plurals if isinstance(msgid, tuple) else 1)
        sources = msgid if isinstance(msgid, tuple) else (msgid,)
        fields = set(_FIELD.findall(sources[-1]))
        for string in strings:
            assert string, f"{locale}: empty translation of {msgid!r}"
            assert set(_FIELD.findall(string)) <= fields | set(_FIELD.findall(sources[0]))
            assert set(_FIELD.findall(string)) >= fields - {"n"}, f"{locale}: {string!r} lost a placeholder"


def test_english_catalog_lists_every_message() -> None:
    with catalog_path("en").open("rb") as handle:
        catalog = read_po(handle, locale="en")
    assert {(_key(m), context) for m, context in _used_in_context()} <= {
        (_key(m.id), m.context) for m in catalog if m.id
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogs_hold_no_stale_messages(locale: str) -> None:
    with catalog_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    used = {(_key(m), context) for m, context in _used_in_context()}
    assert {(_key(m.id), m.context) for m in catalog if m.id} <= used


def test_catalogs_exist_for_every_locale() -> None:
    assert all(catalog_path(locale).exists() for locale in LOCALES)


def test_gettext_for_translates_and_falls_back() -> None:
    assert gettext_for("cs-CZ").gettext("Re-sync") == "Znovu synchronizovat"
    assert gettext_for("nl-NL").gettext("Re-sync") == "Opnieuw synchroniseren"
    assert gettext_for("fr-FR").gettext("Re-sync") == "Re-sync"
    assert gettext_for("cs").ngettext("{n} open error", "{n} open errors", 5) == "{n} otevřených chyb"
    assert gettext_for("cs").pgettext("work", "Re-sync") == "Opětovná synchronizace"
    assert gettext_for("nl").pgettext("work", "Re-sync") == "Opnieuw synchroniseren"
    assert gettext_for("en").pgettext("work", "Re-sync") == "Re-sync"


@pytest.mark.parametrize(
    ("locale", "forms"),
    [
        (
            "cs",
            {
                1: "1 kontrola vyžaduje",
                2: "2 kontroly vyžadují",
                4: "4 kontroly",
                5: "5 kontrol",
                22: "22 kontrol",
            },
        ),
        ("nl", {1: "1 controle vraagt", 2: "2 controles vragen", 5: "5 controles"}),
    ],
)
def test_plural_forms_follow_the_language(locale: str, forms: dict[int, str]) -> None:
    for count, start in forms.items():
        assert Wording(locale).checks_failing(count).startswith(start)


def test_messages_speak_the_readers_language() -> None:
    assert "Chybí oprávnění" in all_text(build_error_message(error(), locale="cs-CZ").to_dict())
    assert "Ontbrekende machtiging" in all_text(build_error_message(error(), locale="nl-NL").to_dict())
    summary = build_summary([("CUSTOMER", "permissions", 1234)], [], locale="cs")
    assert "1 234 otevřených chyb" in all_text(summary.to_dict()).replace("\xa0", " ")


def test_replies_to_work_speak_the_readers_language() -> None:
    assert "Zařazeno do fronty" in all_text(build_queued("resync", "error:17", locale="cs-CZ").to_dict())
    assert "In de wachtrij" in all_text(build_queued("resync", "error:17", locale="nl-NL").to_dict())
    refusal = all_text(build_refusal("delete_record", admins=["U01AAAA"], locale="cs").to_dict())
    assert refusal == "⛔ Jen správci synchronizace smějí odstraňovat záznamy. Požádejte <@U01AAAA>."


@pytest.mark.parametrize(
    ("locale", "terms"),
    [
        ("cs", ["Smazat položky starší než 7 dní", "Smazat všechny položky", "Chyby synchronizace integrace",
                "Zdroj"]),
        ("nl", ["Posten ouder dan 7 dagen verwijderen", "Alle items verwijderen",
                "Synchronisatiefouten bij integratie", "Bron"]),
    ],
)  # fmt: skip
def test_business_centrals_own_terms(locale: str, terms: list[str]) -> None:
    from bot.blocks import build_error_details, build_error_list

    text = " ".join(
        all_text(message.to_dict())
        for message in (
            build_summary([], [], locale=locale),
            build_error_list([error()], next_before_id=None, locale=locale),
            build_error_details(error(), locale=locale),
        )
    )
    assert all(term in text for term in terms), [term for term in terms if term not in text]
