"""Dataverse Web API v9.2: entity sets, WhoAmI, a user's roles and privileges, `$batch` (see dv_batch)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bot.sandbox.api_error import ApiError, dataverse_error
from bot.sandbox.constants import DATAVERSE_API_PREFIX, DATAVERSE_MAX_PAGE_SIZE
from bot.sandbox.dv_batch import run_batch
from bot.sandbox.dv_bulk import BULK_ACTIONS, CREATE_MULTIPLE, run_bulk
from bot.sandbox.dv_records import TYPE_PREFIX, bad_request
from bot.sandbox.faults import FaultBoard
from bot.sandbox.gate import Gate
from bot.sandbox.http_types import Request, Response, empty_response, json_response
from bot.sandbox.listing import ListingRules, list_rows, next_link
from bot.sandbox.metadata import dataverse_csdl
from bot.sandbox.metadata_api import entity_definitions, xml_response
from bot.sandbox.odata_query import QueryError, decode_token, parse_select, project
from bot.sandbox.privileges import held_privileges, privilege_id
from bot.sandbox.schema import DV_ENTITIES, Entity
from bot.sandbox.state import SandboxState
from bot.sandbox.store import Row
from bot.sandbox.values import is_guid

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_$]+)(?:\((?P<key>[^()]*)\))?$")
_EXPAND_ROLES = re.compile(r"^systemuserroles_association(?:\(\$select=(?P<select>[\w,]+)\))?$")
_COOKIE = re.compile(r'pagingcookie="(?P<token>[^"]+)"')
_RULES = ListingRules(TYPE_PREFIX, DATAVERSE_MAX_PAGE_SIZE, DATAVERSE_MAX_PAGE_SIZE, top_disables_paging=True)
_USER_PRIVILEGES = f"{TYPE_PREFIX}.RetrieveUserPrivileges()"


class DataverseApi:
    """Serves `/dataverse/api/data/v9.2/…`; writes are recorded as made by the caller's application user."""

    def __init__(
        self, state: SandboxState, gate: Gate, faults: FaultBoard, dataverse_url: Callable[[], str]
    ) -> None:
        self.state = state
        self.gate = gate
        self.faults = faults
        self.dataverse_url = dataverse_url

    @property
    def api_url(self) -> str:
        """The service root, e.g. `http://127.0.0.1:PORT/dataverse/api/data/v9.2`."""
        return self.dataverse_url() + "/api/data/v9.2"

    def handle(self, request: Request) -> Response:
        """Answer one HTTP request under the Dataverse API prefix."""
        try:
            rest = request.path[len(DATAVERSE_API_PREFIX) :].strip("/")
            grant = self.gate.admit("dataverse", request)
            refusal = self.faults.admin_mode()
            if refusal is not None:
                raise refusal
            actor = self._actor(grant.client_id)
            if rest == "$batch":
                if request.method != "POST":
                    raise ApiError(405, "0x80060888", "The $batch endpoint only accepts POST requests.")
                return run_batch(request, lambda sub: self.route(sub, actor), self.state.store, self.api_url)
            return self.route(request, actor, rest)
        except ApiError as error:
            return dataverse_error(error)

    def _actor(self, client_id: str) -> str:
        user = self.state.dv_find("systemusers", applicationid=client_id)
        if user is None:
            raise ApiError(
                403, "0x80072560", f"The user is not a member of the organization. (appid {client_id})"
            )
        return str(user["systemuserid"])

    def route(self, request: Request, actor: str, rest: str | None = None) -> Response:
        """Dispatch by path; `rest` is the path below the service root (from `request.path` if None)."""
        if rest is None:
            rest = _below_root(request.path)
        try:
            segments = [segment for segment in rest.split("/") if segment]
            if not segments:
                return json_response(
                    200,
                    {
                        "@odata.context": f"{self.api_url}/$metadata",
                        "value": [{"name": name, "kind": "EntitySet", "url": name} for name in DV_ENTITIES],
                    },
                )
            if segments == ["$metadata"]:
                if request.method != "GET":
                    raise ApiError(405, "0x80060888", "$metadata only supports GET.")
                return xml_response(dataverse_csdl())
            if segments[0].split("(", 1)[0] == "EntityDefinitions":
                return entity_definitions(request, segments, self.api_url)
            if segments[0] in ("WhoAmI", "WhoAmI()") and len(segments) == 1:
                return self._who_am_i(request, actor)
            match = _SEGMENT.match(segments[0])
            if match is not None and len(segments) == 2 and segments[1] == _USER_PRIVILEGES:
                if match.group("name") == "systemusers" and match.group("key") is not None:
                    return self._user_privileges(request, match.group("key").strip("'"), actor)
            if match is not None and len(segments) == 2 and segments[1] in BULK_ACTIONS:
                if match.group("key") is None:
                    entity = self.state.dataverse.entity(match.group("name"))
                    return self._bulk(request, entity, segments[1], actor)
            if match is None or len(segments) > 1:
                raise ApiError(404, "0x8006088a", f"Resource not found for the segment '{segments[-1]}'.")
            entity = self.state.dataverse.entity(match.group("name"))
            key = match.group("key")
            self._check_privilege(request.method, entity, actor)
            if key is None:
                return self._collection(request, entity, actor)
            record_id = key.strip("'")
            if not is_guid(record_id):
                raise bad_request(
                    f"Bad Request - Error in query syntax. The key '{key}' is not a "
                    f"valid {entity.type_name} id "
                    "(alternate keys are not defined on this table)."
                )
            return self._single(request, entity, record_id.lower(), actor)
        except QueryError as error:
            return dataverse_error(bad_request(str(error)))
        except ApiError as error:
            return dataverse_error(error)

    def _bulk(self, request: Request, entity: Entity, action: str, actor: str) -> Response:
        """`POST {set}/Microsoft.Dynamics.CRM.CreateMultiple|UpdateMultiple` with `{"Targets": [...]}`."""
        if request.method != "POST":
            raise ApiError(405, "0x80060888", f"{action} is an action and only supports POST.")
        self._check_privilege("POST" if action == CREATE_MULTIPLE else "PATCH", entity, actor)
        ids, operations = run_bulk(self.state.dataverse, entity, action, self._body(request), actor)
        if action == CREATE_MULTIPLE:
            response = json_response(
                200,
                {
                    "@odata.context": f"{self.api_url}/$metadata#{TYPE_PREFIX}.CreateMultipleResponse",
                    "Ids": ids,
                },
            )
        else:
            response = empty_response(204, [("OData-Version", "4.0")])
        response.operations = operations
        return response

    def _check_privilege(self, method: str, entity: Entity, actor: str) -> None:
        privilege = self.faults.missing_privilege(method, entity)
        if privilege is None:
            return
        identities = self.state.identities
        roles = len(self.state.roles_of(actor))
        raise ApiError(
            403,
            "0x80040220",
            f"Principal user (Id={actor}, type=8, roleCount={roles}, privilegeCount=412, accessMode='4', "
            f"MetadataCachePrivilegesCount=4352, businessUnitId={identities.business_unit_id}), is missing "
            f"{privilege} privilege (Id={privilege_id(privilege)}) on OTC={entity.object_type_code} for "
            f"entity '{entity.type_name}'. context: Method={method}. Consider adding missed privilege to one "
            "of the principal (user/team) roles.",
        )

    def _who_am_i(self, request: Request, actor: str) -> Response:
        if request.method != "GET":
            raise ApiError(405, "0x80060888", "WhoAmI is a function and only supports GET.")
        identities = self.state.identities
        return json_response(
            200,
            {
                "@odata.context": f"{self.api_url}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": identities.business_unit_id,
                "UserId": actor,
                "OrganizationId": identities.organization_id,
            },
        )

    def _user_privileges(self, request: Request, user_id: str, actor: str) -> Response:
        """`RetrieveUserPrivileges`: what the user's roles grant (the caller loses what a fault withholds)."""
        if request.method != "GET":
            raise ApiError(405, "0x80060888", "RetrieveUserPrivileges is a function and only supports GET.")
        users = DV_ENTITIES["systemusers"]
        if not is_guid(user_id):
            raise bad_request(f"Bad Request - Error in query syntax. The key '{user_id}' is not a valid id.")
        self._check_privilege("GET", users, actor)
        user = self.state.dataverse.get(users.entity_set, user_id.lower())
        withheld = self.faults.withheld_privileges() if user["systemuserid"] == actor else frozenset()
        business_unit = user.get("_businessunitid_value") or self.state.identities.business_unit_id
        roles = self.state.roles_of(user["systemuserid"])
        privileges = [
            {
                "Depth": depth,
                "PrivilegeId": privilege_id(name),
                "BusinessUnitId": business_unit,
                "PrivilegeName": name,
            }
            for name, depth in held_privileges(roles, withheld)
        ]
        return json_response(
            200,
            {
                "@odata.context": f"{self.api_url}/$metadata#{TYPE_PREFIX}.RetrieveUserPrivilegesResponse",
                "RolePrivileges": privileges,
            },
        )

    def _body(self, request: Request) -> dict[str, Any]:
        try:
            payload = json.loads(request.body.decode("utf-8")) if request.body else None
        except (ValueError, UnicodeDecodeError) as error:
            raise bad_request(
                f"Error in the request body: the payload is not valid JSON ({error})."
            ) from error
        if not isinstance(payload, dict):
            raise bad_request("Error in the request body: a JSON object was expected.")
        return payload

    def _collection(self, request: Request, entity: Entity, actor: str) -> Response:
        if request.method == "GET":
            return self._list(request, entity)
        if request.method != "POST":
            raise ApiError(
                405, "0x80060888", f"The HTTP method '{request.method}' is not allowed on a collection."
            )
        row = self.state.dataverse.create(entity.entity_set, self._body(request), actor)
        return self._written(request, entity, row, created=True)

    def _single(self, request: Request, entity: Entity, record_id: str, actor: str) -> Response:
        if request.method == "GET":
            row = self.state.dataverse.get(entity.entity_set, record_id)
            select = parse_select(request.query.get("$select"), entity, TYPE_PREFIX)
            payload = {
                "@odata.context": f"{self.api_url}/$metadata#{entity.entity_set}/$entity",
                **self._expand(project(row, select, (entity.key,)), entity, request.query.get("$expand")),
            }
            return json_response(200, payload)
        if request.method == "PATCH":
            row, created = self.state.dataverse.update(
                entity.entity_set,
                record_id,
                self._body(request),
                actor,
                if_match=request.header("if-match"),
                if_none_match=_real_if_none_match(request.header("if-none-match")),
            )
            return self._written(
                request, entity, row, created=created, status_if_returned=201 if created else 200
            )
        if request.method == "DELETE":
            self.state.dataverse.delete(entity.entity_set, record_id, if_match=request.header("if-match"))
            return empty_response(204, [("OData-Version", "4.0")])
        raise ApiError(
            405, "0x80060888", f"The HTTP method '{request.method}' is not allowed on a single row."
        )

    def _written(
        self, request: Request, entity: Entity, row: Row, *, created: bool, status_if_returned: int = 201
    ) -> Response:
        entity_url = f"{self.api_url}/{entity.entity_set}({row[entity.key]})"
        headers = [("OData-EntityId", entity_url), ("OData-Version", "4.0")]
        if "return=representation" in (request.header("prefer") or ""):
            select = parse_select(request.query.get("$select"), entity, TYPE_PREFIX)
            payload = {
                "@odata.context": f"{self.api_url}/$metadata#{entity.entity_set}/$entity",
                **project(row, select, (entity.key,)),
            }
            headers.append(("Preference-Applied", "return=representation"))
            return json_response(status_if_returned, payload, headers)
        return empty_response(204, headers)

    def _list(self, request: Request, entity: Entity) -> Response:
        token = request.query.get("$skiptoken")
        if token is not None:
            match = _COOKIE.search(token)
            if match is None:
                raise bad_request("The $skiptoken is not valid. Use the @odata.nextLink unchanged.")
            token = match.group("token")
        query = {name: value for name, value in request.query.items() if name != "$expand"}
        with self.state.lock:
            listing = list_rows(
                self.state.dataverse.rows(entity.entity_set),
                entity,
                query,
                request.header("prefer"),
                _RULES,
                token,
            )
            rows = [self._expand(row, entity, request.query.get("$expand")) for row in listing.rows]
        context = entity.entity_set + (f"({','.join(listing.select)})" if listing.select else "")
        payload: dict[str, Any] = {"@odata.context": f"{self.api_url}/$metadata#{context}", "value": rows}
        if listing.next_token is not None:
            page = decode_token(listing.next_token)["n"] // max(1, len(rows)) + 1
            cookie = f'<cookie pagenumber="{page}" pagingcookie="{listing.next_token}" istracking="False" />'
            payload["@odata.nextLink"] = next_link(
                f"{self.api_url}/{entity.entity_set}", request.query, cookie
            )
        headers = []
        if listing.applied_page_size is not None:
            headers.append(("Preference-Applied", f"odata.maxpagesize={listing.applied_page_size}"))
        response = json_response(200, payload, headers)
        response.rows = len(rows)
        return response

    def _expand(self, row: Row, entity: Entity, expand: str | None) -> Row:
        if expand is None or expand.strip() == "":
            return row
        match = _EXPAND_ROLES.match(expand.strip())
        if match is None or entity.entity_set != "systemusers":
            name = expand.split("(")[0].strip()
            raise QueryError(
                f"Could not find a property named '{name}' on type '{TYPE_PREFIX}.{entity.type_name}'."
            )
        role_entity = DV_ENTITIES["roles"]
        select = parse_select(match.group("select"), role_entity, TYPE_PREFIX)
        roles = [
            project(role, select, ("roleid",)) for role in self.state.dataverse.roles_of(row["systemuserid"])
        ]
        return {**row, "systemuserroles_association": roles}


def _below_root(path: str) -> str:
    if "/api/data/v9.2/" in path:
        return path.split("/api/data/v9.2/", 1)[1]
    return path.strip("/")


def _real_if_none_match(value: str | None) -> str | None:
    """Dataverse clients send `If-None-Match: null` to disable caching; only `*` means create-only."""
    return value if value is not None and value.strip() == "*" else None
