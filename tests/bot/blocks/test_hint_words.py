"""Hints in the reader's language, with Business Central's own terms, naming the record by its code."""

from __future__ import annotations

import pytest

from bot.blocks import build_error_message
from storage.models import Category
from tests.bot.blocks.checks import all_text
from tests.bot.blocks.factory import error


def _hint(locale: str, **overrides: object) -> str:
    return all_text(build_error_message(error(**overrides), locale=locale).to_dict())


@pytest.mark.parametrize(
    ("locale", "words"),
    [("en", ["Business Central", "Currencies page"]), ("cs", ["Měny", "Kurzy"]), ("nl", ["Valuta's"])],
)
def test_exchange_rate_hint_points_at_business_centrals_currencies(locale: str, words: list[str]) -> None:
    text = _hint(
        locale,
        category=Category.EXCHANGE_RATE,
        facts={"currency_code": "DKK", "system": "dataverse"},
        hint="An admin must add an exchange rate for DKK in Business Central (the Currencies page).",
    )
    assert "DKK" in text and all(word in text for word in words)
    assert "on the currency in Dataverse" not in text


@pytest.mark.parametrize(("locale", "word"), [("cs", "tajný klíč klienta"), ("nl", "clientgeheim")])
def test_client_secret_hint_in_the_readers_language(locale: str, word: str) -> None:
    text = _hint(locale, category=Category.CREDENTIALS, facts={"aadsts": "AADSTS7000222", "system": "auth"})
    assert word in text and "AADSTS7000222" in text
    assert "heslo" not in text and "wachtwoord" not in text  # no password talk


@pytest.mark.parametrize("locale", ["cs", "nl"])
def test_dependency_hint_names_the_record_by_its_code_and_links_it(locale: str) -> None:
    url = "https://bc.example/?page=5&filter='Code' IS 'EUR'"
    text = _hint(
        locale,
        category=Category.DEPENDENCY_NOT_COUPLED,
        facts={
            "missing_reference": True,
            "dependency_table": "transactioncurrencies",
            "dependency_key": "EUR",
            "missing_in": "dataverse",
            "dependency_system": "business_central",
            "dependency_url": url,
            "dependency_id": "dbbf9191-0000-0000-0000-000000000000",
        },
    )
    assert "EUR" in text and "dbbf9191" not in text and "bc.example" in text


def test_the_terminal_hint_speaks_the_readers_language_and_names_commands_in_english() -> None:
    from bot.blocks.notifications import terminal_hint

    deleted = error(
        category=Category.DELETED_RECORD,
        facts={
            "deleted_side": "dataverse",
            "surviving_side": "business_central",
            "surviving_table": "customers",
        },
        hint="Someone deleted the record. Restore it (buttons below).",
    )
    assert "commands below" in terminal_hint(deleted, "en")
    assert "Chyby synchronizace propojených dat" in terminal_hint(deleted, "cs")
    assert "Synchronisatiefouten van gekoppelde gegevens" in terminal_hint(deleted, "nl")
