"""Business Central API v2.0: companies, the entity sets the bot uses, and JSON `$batch`."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from bot.sandbox.api_error import ApiError, business_central_error, business_central_error_body
from bot.sandbox.bc_records import TYPE_PREFIX
from bot.sandbox.constants import BC_BATCH_LIMIT, BC_MAX_PAGE_SIZE, SANDBOX_ENVIRONMENT, SANDBOX_TENANT
from bot.sandbox.gate import Gate
from bot.sandbox.http_types import Request, Response, empty_response, json_response, parse_query
from bot.sandbox.latency import pace
from bot.sandbox.listing import ListingRules, list_rows, next_link
from bot.sandbox.metadata import business_central_csdl
from bot.sandbox.metadata_api import xml_response
from bot.sandbox.odata_query import QueryError, parse_select, project
from bot.sandbox.schema import BC_COMPANY, Entity
from bot.sandbox.state import SandboxState
from bot.sandbox.values import is_guid

_SEGMENT = re.compile(r"^(?P<name>[^()]+)(?:\((?P<key>[^()]*)\))?$")
_RULES = ListingRules(TYPE_PREFIX, BC_MAX_PAGE_SIZE, BC_MAX_PAGE_SIZE, top_disables_paging=False)


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def _segment(text: str) -> tuple[str, str | None]:
    match = _SEGMENT.match(text)
    if match is None:
        raise ApiError(404, "BadRequest_NotFound", f"Resource not found for the segment '{text}'.")
    key = match.group("key")
    if key is not None:
        key = key.strip("'").strip("{}")
        if not is_guid(key):
            raise _bad_request(f"The key value '{match.group('key')}' is not a valid Edm.Guid value.")
        key = key.lower()
    return match.group("name"), key


class BusinessCentralApi:
    """Serves `/bc/v2.0/[{tenant}/]{environment}/api/v2.0/…` over the sandbox state."""

    def __init__(self, state: SandboxState, gate: Gate, api_url: Callable[[], str]) -> None:
        self.state = state
        self.gate = gate
        self._api_url = api_url
        self._without_tenant = threading.local()

    def api_url(self) -> str:
        """The API base in the form the current request used (links echo it, as the real service does)."""
        base = self._api_url()
        if getattr(self._without_tenant, "active", False):
            return base.replace(f"/{SANDBOX_TENANT}/", "/", 1)
        return base

    def handle(self, request: Request) -> Response:
        """Answer one HTTP request under the BC prefix."""
        parts = request.path.split("/")
        self._without_tenant.active = len(parts) > 5 and parts[4:6] == ["api", "v2.0"]
        try:
            rest = self._rest_path(request.path)
            self.gate.admit("bc", request)
            if rest == "$batch":
                return self._batch(request)
            return self.route(request.method, rest, request.query, request.headers, request.body)
        except ApiError as error:
            return business_central_error(error)

    def _rest_path(self, path: str) -> str:
        """The path below `/api/v2.0`; the tenant segment is optional (then the token's tenant is used)."""
        parts = path.split("/")
        if len(parts) > 5 and parts[2] == "v2.0" and parts[4:6] == ["api", "v2.0"]:
            parts = [*parts[:3], SANDBOX_TENANT, *parts[3:]]  # /bc/v2.0/{environment}/api/v2.0/…
        if len(parts) < 7 or parts[2] != "v2.0" or parts[5] != "api" or parts[6] != "v2.0":
            raise ApiError(
                404, "BadRequest_NotFound", f"No HTTP resource was found that matches the URI '{path}'."
            )
        if parts[3].lower() != SANDBOX_TENANT:
            raise ApiError(
                401, "Authentication_InvalidCredentials", f"The tenant '{parts[3]}' was not found."
            )
        if parts[4].lower() != SANDBOX_ENVIRONMENT.lower():
            raise ApiError(404, "BadRequest_NotFound", f"The environment '{parts[4]}' does not exist.")
        return "/".join(parts[7:]).strip("/")

    def route(
        self, method: str, rest: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        """Dispatch a request by path (also used for each operation inside `$batch`)."""
        try:
            segments = [segment for segment in rest.split("/") if segment]
            if segments == ["$metadata"]:
                self._allow(method, ("GET",), "$metadata")
                return xml_response(business_central_csdl())
            if not segments:
                return json_response(
                    200,
                    {
                        "@odata.context": f"{self.api_url()}/$metadata",
                        "value": [{"name": "companies", "kind": "EntitySet", "url": "companies"}],
                    },
                )
            name, company_id = _segment(segments[0])
            if name != "companies":
                raise ApiError(404, "BadRequest_NotFound", f"Resource not found for the segment '{name}'.")
            if company_id is None:
                self._allow(method, ("GET",), "companies")
                return self._list_companies(query)
            company = self.state.store.table("bc", "companies").get(company_id)
            if company is None:
                raise ApiError(404, "Internal_CompanyNotFound", f"The company '{company_id}' does not exist.")
            if len(segments) == 1:
                self._allow(method, ("GET",), "companies")
                return self._entity_response(200, "companies/$entity", company, query, BC_COMPANY)
            if len(segments) > 2:
                raise ApiError(
                    404, "BadRequest_NotFound", f"Resource not found for the segment '{segments[2]}'."
                )
            table, record_id = _segment(segments[1])
            entity = self.state.bc.entity(table)
            if not entity.writable:
                self._allow(method, ("GET",), table)
            context = f"companies({company_id})/{table}"
            if record_id is None:
                self._allow(method, ("GET", "POST"), table)
                if method == "GET":
                    return self._list(table, context, query, headers)
                row = self.state.bc.create(table, self._body(body))
                location = f"{self.api_url()}/{context}({row['id']})"
                response = self._entity_response(201, f"{context}/$entity", row, {}, entity)
                response.headers += [("Location", location), ("ETag", row["@odata.etag"])]
                return response
            self._allow(method, ("GET", "PATCH", "DELETE"), table)
            if method == "GET":
                row = self.state.bc.get(table, record_id)
                return self._entity_response(200, f"{context}/$entity", row, query, entity)
            if method == "PATCH":
                row = self.state.bc.update(table, record_id, self._body(body), headers.get("if-match"))
                response = self._entity_response(200, f"{context}/$entity", row, {}, entity)
                response.headers.append(("ETag", row["@odata.etag"]))
                return response
            self.state.bc.delete(table, record_id, headers.get("if-match"))
            return empty_response(204)
        except QueryError as error:
            return business_central_error(_bad_request(str(error)))

    def _allow(self, method: str, allowed: tuple[str, ...], target: str) -> None:
        if method not in allowed:
            raise ApiError(
                405,
                "BadRequest_MethodNotAllowed",
                f"'{method}' requests for '{target}' are not allowed within Dynamics "
                "365 Business Central OData "
                "web services.",
            )

    def _body(self, body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError) as error:
            raise _bad_request("Invalid Request Body") from error
        if not isinstance(payload, dict):
            raise _bad_request("Invalid Request Body")
        return payload

    def _list_companies(self, query: dict[str, str]) -> Response:
        select = parse_select(query.get("$select"), BC_COMPANY, TYPE_PREFIX)
        rows = [project(row, select, ("id",)) for row in self.state.store.table("bc", "companies").values()]
        return json_response(200, {"@odata.context": f"{self.api_url()}/$metadata#companies", "value": rows})

    def _list(self, table: str, context: str, query: dict[str, str], headers: dict[str, str]) -> Response:
        entity = self.state.bc.entity(table)
        with self.state.lock:
            listing = list_rows(
                self.state.bc.rows(table),
                entity,
                query,
                headers.get("prefer"),
                _RULES,
                query.get("$skiptoken"),
            )
        payload: dict[str, Any] = {
            "@odata.context": f"{self.api_url()}/$metadata#{context}",
            "value": listing.rows,
        }
        if listing.next_token is not None:
            payload["@odata.nextLink"] = next_link(f"{self.api_url()}/{context}", query, listing.next_token)
        extra = []
        if listing.applied_page_size is not None:
            extra.append(("Preference-Applied", f"odata.maxpagesize={listing.applied_page_size}"))
        response = json_response(200, payload, extra)
        response.rows = len(listing.rows)
        return response

    def _entity_response(
        self, status: int, context: str, row: dict[str, Any], query: dict[str, str], entity: Entity
    ) -> Response:
        unknown = [option for option in query if option.startswith("$") and option != "$select"]
        if unknown:
            raise QueryError(f"The query parameter '{unknown[0]}' is not supported.")
        select = parse_select(query.get("$select"), entity, TYPE_PREFIX)
        payload = {
            "@odata.context": f"{self.api_url()}/$metadata#{context}",
            **project(row, select, (entity.key,)),
        }
        return json_response(status, payload)

    def _batch(self, request: Request) -> Response:
        """JSON `$batch`: up to 100 operations; `Isolation: snapshot` rolls all back when one fails."""
        if request.method != "POST":
            raise ApiError(405, "BadRequest_MethodNotAllowed", "'$batch' only accepts POST requests.")
        payload = self._body(request.body)
        operations = payload.get("requests")
        if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
            raise _bad_request("Invalid Request Body. A JSON batch request must have a 'requests' array.")
        if len(operations) > BC_BATCH_LIMIT:
            raise _bad_request(
                f"The batch request contains {len(operations)} operations, which exceeds the maximum of "
                f"{BC_BATCH_LIMIT} operations per batch request."
            )
        atomic = (request.header("isolation") or "").lower() == "snapshot"
        if atomic:  # one transaction: committed (or rolled back) as a whole at the end
            with self.state.store.journal():
                mark = self.state.store.mark()
                responses = [self._run_operation(operation) for operation in operations]
                if any(response["status"] >= 400 for response in responses):
                    self.state.store.rollback_to(mark)
                    responses = [self._rolled_back(response) for response in responses]
        else:  # each operation commits on its own, one after the other
            responses = []
            for operation in operations:
                responses.append(self._run_operation(operation))
                pace()
        response = json_response(200, {"responses": responses})
        response.operations = len(operations)
        return response

    def _run_operation(self, operation: dict[str, Any]) -> dict[str, Any]:
        op_id = str(operation.get("id", ""))
        method = str(operation.get("method", "")).upper()
        url = str(operation.get("url", ""))
        headers = {str(k).lower(): str(v) for k, v in (operation.get("headers") or {}).items()}
        body = operation.get("body")
        raw_body = json.dumps(body).encode() if body is not None else b""
        path, _, query_string = url.partition("?")
        if "/api/v2.0/" in path:
            path = path.split("/api/v2.0/", 1)[1]
        path = path.strip("/")
        if path == "$batch":
            response = business_central_error(
                _bad_request("A batch request cannot contain another batch request.")
            )
        else:
            try:
                response = self.route(method, path, parse_query(query_string), headers, raw_body)
            except ApiError as error:
                response = business_central_error(error)
        result: dict[str, Any] = {
            "id": op_id,
            "status": response.status,
            "headers": {name.lower(): value for name, value in response.headers},
        }
        if response.body:
            result["body"] = json.loads(response.body)
        return result

    def _rolled_back(self, response: dict[str, Any]) -> dict[str, Any]:
        if response["status"] >= 400:
            return response
        error = ApiError(424, "BadRequest", "The operation was rolled back because another operation failed.")
        return {
            "id": response["id"],
            "status": 424,
            "headers": {"content-type": "application/json"},
            "body": business_central_error_body(error),
        }
