"""Gettext catalogs of the bot's Slack wording, compiled in memory from the .po files in bot/locale."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "en"
LOCALES = ("en", "cs", "nl")


def normalize_locale(locale: str | None) -> str:
    """Map a Slack locale ("cs-CZ", "nl_NL", "en-US") to one of ours, English when unknown."""
    if not locale:
        return DEFAULT_LOCALE
    language = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return language if language in LOCALES else DEFAULT_LOCALE


def catalog_path(locale: str) -> Path:
    """Where the .po catalog of a locale lives."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def gettext_for(locale: str | None) -> gettext.NullTranslations:
    """Return the translations of a (Slack or our) locale; English, the source language, as fallback."""
    return _load(normalize_locale(locale))


@cache
def _load(language: str) -> gettext.NullTranslations:
    path = catalog_path(language)
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    translations: gettext.NullTranslations = Translations(fp=buffer, domain=DOMAIN)
    # A message takes hundreds of gettext calls; each answer is kept (a dict lookup in C from then on).
    translations.gettext = _Remembered(translations.gettext).__getitem__  # type: ignore[method-assign,assignment]
    return translations


class _Remembered(dict[str, str]):
    """The answers of a lookup function, each computed once."""

    def __init__(self, lookup: Callable[[str], str]) -> None:
        super().__init__()
        self._lookup = lookup

    def __missing__(self, message: str) -> str:
        answer = self[message] = self._lookup(message)
        return answer
