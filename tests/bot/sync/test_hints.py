"""Hints: specific, who-does-what texts per category and fact, with links when the base URLs are known."""

from __future__ import annotations

import pytest

from bot.sync.hints import (
    AADSTS_MEANINGS,
    Links,
    aadsts_meaning,
    field_caption,
    hint_for,
    table_caption,
)
from storage.models import Category

LINKS = Links(bc_web_url="https://bc.example/tenant/production", dataverse_url="https://org.crm.dynamics.com")


def test_every_category_has_a_hint_with_and_without_links() -> None:
    for category in Category:
        assert hint_for(category, {}).strip()
        assert hint_for(category, {}, links=LINKS).strip()


def test_permissions_hint_names_the_privilege_and_links_the_user() -> None:
    hint = hint_for(Category.PERMISSIONS, {"privilege": "prvCreateAccount", "user_id": "u-1"}, links=LINKS)
    assert hint.startswith("An admin must add prvCreateAccount (Create on Account) to a security role")
    assert "https://org.crm.dynamics.com/main.aspx?pagetype=entityrecord&etn=systemuser&id=u-1" in hint
    assert hint.endswith("then Re-sync.")


def test_permissions_hint_without_user_id_has_no_broken_link() -> None:
    hint = hint_for(Category.PERMISSIONS, {"privilege": "prvAppendToTransactionCurrency"}, links=LINKS)
    assert "(AppendTo on TransactionCurrency)" in hint
    assert "id=None" not in hint


@pytest.mark.parametrize("code", sorted(AADSTS_MEANINGS))
def test_each_aadsts_code_has_its_own_advice(code: str) -> None:
    meaning, advice = AADSTS_MEANINGS[code]
    hint = hint_for(Category.CREDENTIALS, {"aadsts": code})
    assert meaning in hint and advice in hint
    assert aadsts_meaning(code) == meaning
    assert aadsts_meaning(code.removeprefix("AADSTS")) == meaning


def test_secret_hints_point_at_the_entra_app_registration() -> None:
    assert "AZURE_CLIENT_SECRET" in hint_for(Category.CREDENTIALS, {"aadsts": "AADSTS7000222"})
    assert "entra.microsoft.com" in hint_for(Category.CREDENTIALS, {})


def test_unknown_aadsts_code_gets_the_generic_sign_in_hint() -> None:
    assert aadsts_meaning("AADSTS1") is None
    assert "AZURE_TENANT_ID" in hint_for(Category.CREDENTIALS, {"aadsts": "AADSTS1"})


def test_deleted_record_hint_tells_the_story() -> None:
    facts = {
        "deleted_side": "dataverse",
        "deleted_table": "accounts",
        "surviving_side": "business_central",
        "surviving_table": "customers",
        "surviving_key": "10000",
    }
    hint = hint_for(Category.DELETED_RECORD, facts, links=LINKS)
    assert hint.startswith(
        "Someone deleted the Dataverse account but not the Business Central customer 10000. "
        "Restore the record, delete the surviving one, or remove the coupling"
    )
    assert "https://bc.example/tenant/production/?page=5333" in hint


def test_exchange_rate_hint_links_the_currencies_page() -> None:
    hint = hint_for(Category.EXCHANGE_RATE, {"currency_code": "EUR"}, links=LINKS)
    assert "exchange rate for EUR" in hint
    assert "https://bc.example/tenant/production/?page=5" in hint
    # The rate is missing in Business Central whichever app refused the currency.
    dataverse = hint_for(Category.EXCHANGE_RATE, {"currency_code": "EUR", "system": "dataverse"})
    assert "in Business Central" in dataverse
    assert "Dataverse" not in dataverse


def test_dependency_hint_names_the_mapping_and_key() -> None:
    facts = {"dependency_mapping": "CURRENCY", "dependency_table": "currencies", "dependency_key": "EUR"}
    hint = hint_for(Category.DEPENDENCY_NOT_COUPLED, facts, links=LINKS)
    assert hint.startswith("Couple currency EUR first: run the CURRENCY mapping")
    assert "?page=5335" in hint


def test_admin_mode_and_admin_user_hints() -> None:
    assert "Power Platform admin centre" in hint_for(Category.ADMIN_MODE, {})
    hint = hint_for(Category.ADMIN_INTEGRATION_USER, {"user_name": "Admin", "user_id": "u-9"}, links=LINKS)
    assert "remove the System Administrator role from Admin" in hint
    assert "id=u-9" in hint


def test_throttled_hint_mentions_the_wait() -> None:
    assert "after 30 s" in hint_for(Category.THROTTLED, {"retry_after": 30.0, "system": "dataverse"})
    assert "after" not in hint_for(Category.THROTTLED, {"retry_after": float("nan")})


def test_links_append_to_a_base_with_a_query() -> None:
    links = Links(bc_web_url="https://bc.example/t/prod/?company=CRONUS")
    assert links.bc_page(5339) == "https://bc.example/t/prod/?company=CRONUS&page=5339"
    assert Links().bc_page(5) is None
    assert Links(dataverse_url="https://o.crm.dynamics.com").dataverse_user(None) is None


@pytest.mark.parametrize(
    ("table", "caption"),
    [("customers", "Customer"), ("accounts", "Account"), ("salespeople", "Salesperson/Purchaser"),
     ("unitsOfMeasure", "UnitsOfMeasure"), ("categories", "Category"), ("", "Record")],
)  # fmt: skip
def test_table_captions(table: str, caption: str) -> None:
    assert table_caption(table) == caption


def test_field_captions() -> None:
    assert field_caption("currencyCode") == "Currency Code"
    assert field_caption("salespersonCode") == "Salesperson Code"
