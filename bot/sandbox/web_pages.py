"""Tiny HTML stand-ins for the two web clients, so deep links in Slack messages lead somewhere."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.sandbox.http_types import Request, Response, html_response
from bot.sandbox.schema import DV_BY_LOGICAL_NAME
from bot.sandbox.state import SandboxState

_BC_PAGES: dict[str, tuple[str, str]] = {
    "21": ("customers", "Customer Card"),
    "22": ("customers", "Customer List"),
    "5050": ("contacts", "Contact Card"),
    "5052": ("contacts", "Contact List"),
    "30": ("items", "Item Card"),
    "31": ("items", "Item List"),
    "5": ("currencies", "Currencies"),
    "14": ("salespeople", "Salespersons/Purchasers"),
    "5116": ("salespeople", "Salesperson/Purchaser Card"),
}
_BC_FILTER_FIELDS = {"no.": "number", "code": "code", "systemid": "id", "name": "displayName"}
_FILTER = re.compile(r"^'?(?P<field>[^']+?)'?\s+IS\s+'(?P<value>.*)'$", re.IGNORECASE)


def _page(title: str, heading: str, record: dict[str, Any] | None, note: str = "") -> str:
    rows = ""
    if record is not None:
        rows = "".join(
            f"<tr><th>{html.escape(str(name))}</th><td>{html.escape(str(value))}</td></tr>"
            for name, value in record.items()
            if not name.startswith("@")
        )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(heading)}</h1><p>{html.escape(note)}</p><table>{rows}</table></body></html>"
    )


def business_central_page(state: SandboxState, request: Request) -> Response:
    """`/bc-web/{tenant}/{env}/?company=…&page=21&filter='No.' IS '10000'`."""
    page_id = request.query.get("page", "")
    table, caption = _BC_PAGES.get(page_id, ("", f"Page {page_id}"))
    company = request.query.get("company", "")
    match = _FILTER.match(request.query.get("filter", "").strip())
    if not table or match is None:
        return html_response(
            200, _page(caption, f"{company} — {caption}", None, "Dynamics 365 Business Central")
        )
    field = _BC_FILTER_FIELDS.get(match.group("field").strip().lower(), match.group("field").strip())
    value = match.group("value")
    record = next(
        (row for row in state.bc_rows(table) if str(row.get(field, "")).casefold() == value.casefold()), None
    )
    if record is None:
        note = (
            f"The record does not exist. Identification fields and values: {match.group('field')}='{value}'"
        )
        return html_response(404, _page(caption, f"{company} — {caption}", None, note))
    heading = f"{caption}: {record.get('number') or record.get('code')} · {record.get('displayName', '')}"
    return html_response(200, _page(caption, heading, record, company))


def dataverse_page(state: SandboxState, request: Request) -> Response:
    """`/dataverse/main.aspx?pagetype=entityrecord&etn=account&id=<guid>`."""
    logical_name = request.query.get("etn", "")
    entity = DV_BY_LOGICAL_NAME.get(logical_name)
    if entity is None:
        return html_response(
            404, _page("Dynamics 365", "Record Is Unavailable", None, f"Unknown table '{logical_name}'.")
        )
    if request.query.get("pagetype") == "entitylist":
        count = len(state.dv_rows(entity.entity_set))
        return html_response(
            200, _page(entity.entity_set, f"Active {entity.entity_set}", None, f"{count} rows")
        )
    record = state.dv_get(entity.entity_set, request.query.get("id", "").strip("{}"))
    if record is None:
        note = "The requested record was not found or you do not have sufficient permissions to view it."
        return html_response(404, _page("Dynamics 365", "Record Is Unavailable", None, note))
    title = str(record.get("name") or record.get("fullname") or record.get("currencyname") or logical_name)
    return html_response(200, _page(title, f"{logical_name}: {title}", record, "Dynamics 365 Sales"))
