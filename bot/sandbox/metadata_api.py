"""Serves Dataverse `EntityDefinitions[(…)][/Attributes[(…)]]` and the `$metadata` documents."""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.api_error import ApiError
from bot.sandbox.dv_records import TYPE_PREFIX
from bot.sandbox.http_types import Request, Response, json_response
from bot.sandbox.listing import ListingRules, list_rows
from bot.sandbox.metadata import ATTRIBUTE_METADATA, ENTITY_METADATA, METADATA_CLASSES, attributes, option_set
from bot.sandbox.metadata import entity_definitions as all_entity_definitions
from bot.sandbox.odata_query import QueryError, parse_select, project
from bot.sandbox.schema import DV_BY_LOGICAL_NAME, Entity
from bot.sandbox.values import is_guid

_KEYED = re.compile(r"^(?P<name>\w+)(?:\((?P<key>[^()]*)\))?$")
_BY_LOGICAL_NAME = re.compile(r"^LogicalName\s*=\s*'(?P<name>[^']*)'$")
_EXPAND_OPTION_SET = re.compile(r"^OptionSet(?:\(\$select=(?P<select>[\w,]+)\))?$")
_RULES = ListingRules(TYPE_PREFIX, 5000, 5000, top_disables_paging=True)


def xml_response(body: bytes) -> Response:
    """A CSDL document."""
    return Response(200, [("Content-Type", "application/xml"), ("OData-Version", "4.0")], body)


def _not_found_entity(key: str) -> ApiError:
    return ApiError(
        404, "0x80040217", f"Could not find an entity with {key} in the metadata cache of the organization."
    )


def _find(rows: list[dict[str, Any]], key: str, what: str) -> dict[str, Any]:
    """A row by `LogicalName='…'` or by MetadataId."""
    by_name = _BY_LOGICAL_NAME.match(key.strip())
    if by_name is not None:
        wanted = by_name.group("name").lower()
        found = next((row for row in rows if row["LogicalName"] == wanted), None)
    elif is_guid(key.strip()):
        found = next((row for row in rows if row["MetadataId"] == key.strip().lower()), None)
    else:
        raise ApiError(
            400,
            "0x80060888",
            f"Bad Request - Error in query syntax. The key '{key}' is not a valid {what} key.",
        )
    if found is None:
        raise _not_found_entity(key.strip())
    return found


_EXPANDED = ("OptionSet",)


def _single(request: Request, row: dict[str, Any], shape: Entity, context: str) -> Response:
    select = parse_select(request.query.get("$select"), shape, TYPE_PREFIX)
    return json_response(200, {"@odata.context": context, **project(row, select, (shape.key, *_EXPANDED))})


def _collection(request: Request, rows: list[dict[str, Any]], shape: Entity, context: str) -> Response:
    query = {name: value for name, value in request.query.items() if name != "$expand"}
    listing = list_rows(rows, shape, query, None, _RULES, None)
    expanded = {row[shape.key]: {name: row[name] for name in _EXPANDED if name in row} for row in rows}
    value = [{**row, **expanded.get(row[shape.key], {})} for row in listing.rows]
    return json_response(200, {"@odata.context": context, "value": value})


def entity_definitions(request: Request, segments: list[str], api_url: str) -> Response:
    """`EntityDefinitions`, `EntityDefinitions(LogicalName='account')`, `…/Attributes[(…)][/<cast>]`."""
    if request.method != "GET":
        raise ApiError(
            405, "0x80060888", "The sandbox serves table metadata read-only: tables cannot be created."
        )
    if len(segments) > 3:
        raise ApiError(404, "0x8006088a", f"Resource not found for the segment '{segments[3]}'.")
    first = _KEYED.match(segments[0])
    if first is None:
        raise ApiError(404, "0x8006088a", f"Resource not found for the segment '{segments[0]}'.")
    definitions = all_entity_definitions()
    context = f"{api_url}/$metadata#EntityDefinitions"
    if first.group("key") is None:
        if len(segments) > 1:
            raise ApiError(404, "0x8006088a", f"Resource not found for the segment '{segments[1]}'.")
        return _collection(request, definitions, ENTITY_METADATA, context)
    definition = _find(definitions, first.group("key"), "EntityMetadata")
    if len(segments) == 1:
        return _single(request, definition, ENTITY_METADATA, f"{context}/$entity")
    second = _KEYED.match(segments[1])
    if second is None or second.group("name") != "Attributes":
        raise ApiError(404, "0x8006088a", f"Resource not found for the segment '{segments[1]}'.")
    logical = definition["LogicalName"]
    rows = attributes(DV_BY_LOGICAL_NAME[logical])
    cast = segments[2] if len(segments) == 3 else None
    if cast is not None:
        if cast.removeprefix(f"{TYPE_PREFIX}.") not in METADATA_CLASSES:
            raise ApiError(404, "0x8006088a", f"Resource not found for the segment '{cast}'.")
        rows = [
            row
            for row in rows
            if row["@odata.type"] == f"#{TYPE_PREFIX}.{cast.removeprefix(TYPE_PREFIX + '.')}"
        ]
    rows = [_expanded(row, logical, request.query.get("$expand")) for row in rows]
    context = f"{api_url}/$metadata#EntityDefinitions('{definition['MetadataId']}')/Attributes"
    if second.group("key") is None:
        return _collection(request, rows, ATTRIBUTE_METADATA, context)
    attribute = _find(rows, second.group("key"), "AttributeMetadata")
    return _single(request, attribute, ATTRIBUTE_METADATA, context)


def _expanded(row: dict[str, Any], table: str, expand: str | None) -> dict[str, Any]:
    """`$expand=OptionSet[($select=Options)]` on Picklist, State and Status attributes."""
    if expand is None or not expand.strip():
        return row
    match = _EXPAND_OPTION_SET.match(expand.strip())
    if match is None:
        name = expand.split("(")[0].strip()
        raise QueryError(
            f"Could not find a property named '{name}' on type '{TYPE_PREFIX}.AttributeMetadata'."
        )
    options = option_set(table, row["LogicalName"], row["AttributeType"])
    if options is None:
        return row
    if match.group("select"):
        wanted = {name.strip() for name in match.group("select").split(",")}
        options = {name: value for name, value in options.items() if name in wanted or name == "MetadataId"}
    return {**row, "OptionSet": options}
