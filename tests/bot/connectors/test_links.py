"""Deep links: Business Central web client cards and Dataverse main.aspx records."""

from __future__ import annotations

import pytest

from bot.connectors import (
    business_central_record_url,
    business_central_web_url_from_api,
    dataverse_record_url,
)
from bot.connectors.links import dataverse_logical_name

WEB = "https://businesscentral.dynamics.com/tenant-1/Production"


def test_customer_card_link_is_properly_encoded() -> None:
    url = business_central_record_url(WEB, "CRONUS International Ltd.", "customers", "10000")
    assert url == (
        f"{WEB}/?company=CRONUS%20International%20Ltd.&page=21&filter=%27No.%27%20IS%20%2710000%27"
    )


@pytest.mark.parametrize(
    ("table", "page", "field"),
    [
        ("customers", 21, "%27No.%27"),
        ("contacts", 5050, "%27No.%27"),
        ("currencies", 5, "%27Code%27"),
        ("items", 30, "%27No.%27"),
        ("salespeople", 5116, "%27Code%27"),
    ],
)
def test_card_pages(table: str, page: int, field: str) -> None:
    url = business_central_record_url(WEB + "/", "A&B / Co", table, "K 1")
    assert url is not None
    assert url.startswith(f"{WEB}/?company=A%26B%20%2F%20Co&page={page}&filter={field}%20IS%20")
    assert url.endswith("%27K%201%27")


def test_no_link_without_key_or_for_unknown_tables() -> None:
    assert business_central_record_url(WEB, "C", "customers", None) is None
    assert business_central_record_url(WEB, "C", "currencyExchangeRates", "EUR") is None


@pytest.mark.parametrize(
    ("api_url", "web_url"),
    [
        (
            "https://api.businesscentral.dynamics.com/v2.0/tenant-1/Production/api/v2.0",
            "https://businesscentral.dynamics.com/tenant-1/Production",
        ),
        (
            "https://api.businesscentral.dynamics.com/v2.0/tenant-1/Sandbox/api/v2.0/",
            "https://businesscentral.dynamics.com/tenant-1/Sandbox",
        ),
        (
            "https://api.businesscentral.dynamics.com/v2.0/Production/api/v2.0",
            "https://businesscentral.dynamics.com/Production",
        ),
        ("https://example.test/odata", None),
    ],
)
def test_web_url_derived_from_api_url(api_url: str, web_url: str | None) -> None:
    assert business_central_web_url_from_api(api_url) == web_url


@pytest.mark.parametrize(
    ("table", "logical"),
    [
        ("accounts", "account"),
        ("contacts", "contact"),
        ("transactioncurrencies", "transactioncurrency"),
        ("systemusers", "systemuser"),
        ("products", "product"),
    ],
)
def test_dataverse_record_link(table: str, logical: str) -> None:
    guid = "6f1c2a9e-0000-4000-8000-000000000001"
    assert dataverse_record_url("https://org.crm4.dynamics.com/", table, guid) == (
        f"https://org.crm4.dynamics.com/main.aspx?pagetype=entityrecord&etn={logical}&id={guid}"
    )
    assert dataverse_logical_name(table) == logical


def test_no_dataverse_link_without_id() -> None:
    assert dataverse_record_url("https://org.crm4.dynamics.com", "accounts", None) is None
    assert dataverse_record_url("https://org.crm4.dynamics.com", "accounts", "") is None
