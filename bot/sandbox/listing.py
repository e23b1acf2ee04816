"""GET on a collection: apply the query options, cut a page and build the `@odata.nextLink`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from bot.sandbox.odata_query import (
    QueryError,
    matches,
    paginate,
    parse_filter,
    parse_orderby,
    parse_select,
    parse_top,
    preferred_page_size,
    project,
)
from bot.sandbox.schema import Entity
from bot.sandbox.store import Row

_KNOWN_OPTIONS = {"$filter", "$select", "$orderby", "$top", "$skiptoken", "$expand"}


@dataclass(frozen=True)
class ListingRules:
    """How one API pages: its type namespace, default and maximum page size, and whether $top ends paging."""

    type_prefix: str
    default_page_size: int
    max_page_size: int
    top_disables_paging: bool


@dataclass(frozen=True)
class Listing:
    """One page of projected rows, the next page's token, and the page size preference that was applied."""

    rows: list[Row]
    select: list[str] | None
    next_token: str | None
    applied_page_size: int | None


def list_rows(
    rows: list[Row],
    entity: Entity,
    query: dict[str, str],
    prefer: str | None,
    rules: ListingRules,
    skiptoken: str | None,
) -> Listing:
    """Filter, order, select and page `rows` as the API would; raises QueryError for what it refuses."""
    for option in query:
        if option.startswith("$") and option not in _KNOWN_OPTIONS:
            raise QueryError(f"The query parameter '{option}' is not supported.")
    filter_text = query.get("$filter")
    node = parse_filter(filter_text, entity, rules.type_prefix) if filter_text is not None else None
    select = parse_select(query.get("$select"), entity, rules.type_prefix)
    order = parse_orderby(query.get("$orderby"), entity, rules.type_prefix)
    top = parse_top(query.get("$top"))
    size, applied = preferred_page_size(prefer, rules.default_page_size, rules.max_page_size)
    if top is not None and rules.top_disables_paging:
        size, applied, top = min(top, rules.max_page_size), False, min(top, rules.max_page_size)
    selected = [row for row in rows if node is None or matches(row, node)]
    page = paginate(selected, entity, order, size, skiptoken, top)
    next_token = None if (top is not None and rules.top_disables_paging) else page.next_token
    projected = [project(row, select, (entity.key,)) for row in page.rows]
    return Listing(projected, select, next_token, size if applied else None)


def next_link(collection_url: str, query: dict[str, str], skiptoken: str) -> str:
    """The collection URL with the same query options and a new `$skiptoken`."""
    params = {name: value for name, value in query.items() if name != "$skiptoken"}
    params["$skiptoken"] = skiptoken
    encoded = "&".join(f"{name}={quote(value, safe=chr(39) + '(),:$')}" for name, value in params.items())
    return f"{collection_url}?{encoded}"
