"""Deep links into the Business Central web client and the Dynamics 365 / Dataverse web app."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

BUSINESS_CENTRAL_WEB = "https://businesscentral.dynamics.com"


@dataclass(frozen=True, slots=True)
class CardPage:
    """A Business Central card page and the field its filter (and the API's key property) uses."""

    page_id: int
    filter_field: str  # the caption in the web client filter, e.g. 'No.'
    key_property: str  # the API property holding that value, e.g. "number"


BUSINESS_CENTRAL_PAGES: dict[str, CardPage] = {
    "customers": CardPage(21, "No.", "number"),
    "contacts": CardPage(5050, "No.", "number"),
    "currencies": CardPage(5, "Code", "code"),
    "items": CardPage(30, "No.", "number"),
    "salespeople": CardPage(5116, "Code", "code"),
}

DATAVERSE_LOGICAL_NAMES: dict[str, str] = {
    "accounts": "account",
    "contacts": "contact",
    "transactioncurrencies": "transactioncurrency",
    "systemusers": "systemuser",
    "products": "product",
}

_API_PATH = re.compile(r"/v2\.0/(?P<segments>[^?#]+?)/api/v2\.0/?$")


def business_central_web_url_from_api(api_url: str) -> str | None:
    """Derive `https://businesscentral.dynamics.com/{tenant}/{env}` from `…/v2.0/{tenant}/{env}/api/v2.0`."""
    match = _API_PATH.search(api_url.rstrip("/"))
    if match is None:
        return None
    segments = [segment for segment in match.group("segments").split("/") if segment]
    if not 1 <= len(segments) <= 2:
        return None
    return "/".join([BUSINESS_CENTRAL_WEB, *segments])


def business_central_record_url(web_url: str, company_name: str, table: str, key: str | None) -> str | None:
    """Link to a Business Central card filtered on its No./Code, or None for an unknown table or no key."""
    page = BUSINESS_CENTRAL_PAGES.get(table)
    if page is None or not key:
        return None
    filter_value = f"'{page.filter_field}' IS '{key}'"
    query = "&".join(
        [
            f"company={quote(company_name, safe='')}",
            f"page={page.page_id}",
            f"filter={quote(filter_value, safe='')}",
        ]
    )
    return f"{web_url.rstrip('/')}/?{query}"


def dataverse_logical_name(table: str) -> str:
    """The logical name of a Dataverse entity set ("transactioncurrencies" -> "transactioncurrency")."""
    known = DATAVERSE_LOGICAL_NAMES.get(table)
    if known is not None:
        return known
    if table.endswith("ies"):
        return table[:-3] + "y"
    return table[:-1] if table.endswith("s") else table


def dataverse_record_url(environment_url: str, table: str, record_id: str | None) -> str | None:
    """Link to a Dataverse row in the model-driven app (`main.aspx?pagetype=entityrecord`), or None."""
    if not record_id:
        return None
    logical_name = quote(dataverse_logical_name(table), safe="")
    return (
        f"{environment_url.rstrip('/')}/main.aspx?pagetype=entityrecord"
        f"&etn={logical_name}&id={quote(record_id, safe='')}"
    )
