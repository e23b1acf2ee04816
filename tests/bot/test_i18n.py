"""Translations: Slack locales map to ours, and every message of the blocks exists in cs and nl."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from bot.blocks import build_error_message, build_summary
from bot.i18n import LOCALES, catalog_path, gettext_for, normalize_locale
from tests.bot.blocks.checks import all_text
from tests.bot.blocks.factory import error

WORDING = Path(__file__).resolve().parents[2] / "bot" / "blocks" / "wording.py"
KEYWORDS = {"_": None, "_n": (1, 2)}
_FIELD = re.compile(r"\{(\w*)\}")


def _used() -> set[str | tuple[str, ...]]:
    return {
        message
        for _line, message, _comments, _context in extract_from_file("python", WORDING, keywords=KEYWORDS)
    }


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
    assert len(_used()) > 150


@pytest.mark.parametrize("locale", ["cs", "nl"])
def test_every_message_has_a_translation_with_the_same_placeholders(locale: str) -> None:
    with catalog_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    for msgid in _used():
        key = msgid if isinstance(msgid, str) else msgid[0]
        message = catalog.get(key)
        assert message is not None, f"{locale}: no entry for {msgid!r}"
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
    assert {m if isinstance(m, str) else m[0] for m in _used()} <= {
        m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id
    }


def test_catalogs_exist_for_every_locale() -> None:
    assert all(catalog_path(locale).exists() for locale in LOCALES)


def test_gettext_for_translates_and_falls_back() -> None:
    assert gettext_for("cs-CZ").gettext("Re-sync") == "Znovu synchronizovat"
    assert gettext_for("nl-NL").gettext("Re-sync") == "Opnieuw synchroniseren"
    assert gettext_for("fr-FR").gettext("Re-sync") == "Re-sync"
    assert gettext_for("cs").ngettext("{n} open error", "{n} open errors", 5) == "{n} otevřených chyb"


def test_messages_speak_the_readers_language() -> None:
    assert "Chybí oprávnění" in all_text(build_error_message(error(), locale="cs-CZ").to_dict())
    assert "Ontbrekende machtiging" in all_text(build_error_message(error(), locale="nl-NL").to_dict())
    summary = build_summary([("CUSTOMER", "permissions", 1234)], [], locale="cs")
    assert "1 234 otevřených chyb" in all_text(summary.to_dict()).replace("\xa0", " ")
