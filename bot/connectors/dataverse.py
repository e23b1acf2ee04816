"""Dataverse Web API v9.2 as a BusinessApp, plus WhoAmI and the security roles and privileges of a user."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from bot.connectors.auth import TokenProvider, dataverse_scope
from bot.connectors.batching import BatchRunner, has_create, not_answered
from bot.connectors.errors import ConnectorError
from bot.connectors.failures import error_from_answer, json_body, parse_json_object
from bot.connectors.links import dataverse_logical_name, dataverse_record_url
from bot.connectors.models import BatchOperation, BatchResult, Record, SystemName, SystemUser, WhoAmI
from bot.connectors.multipart import PartRequest, PartResponse, decode_batch, encode_batch, new_boundary
from bot.connectors.odata import (
    any_of,
    format_timestamp,
    literal,
    max_page_size,
    select_with,
    table_select,
    to_record,
)
from bot.connectors.pacing import DATAVERSE_LIMITS, Pacer, PacingLimits, PacingStats
from bot.connectors.retry import RetryPolicy
from bot.connectors.transport import ApiSession

API_PATH = "/api/data/v9.2"
MODIFIED_FIELD = "modifiedon"
MODIFIED_BY_FIELD = "_modifiedby_value"
USER_COLUMNS = "systemuserid,fullname,accessmode,isdisabled,applicationid"
USER_ROLES = "systemuserroles_association($select=name,roleid)"
USER_PRIVILEGES = "Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
RETURN_REPRESENTATION = {"Prefer": "return=representation"}
# Dataverse serves cached answers to GETs unless told not to.
NO_CACHE = {"If-None-Match": "null"}
_ENTITY_ID = re.compile(r"\(([0-9A-Fa-f-]{36})\)\s*$")
DEFAULT_BATCH_SIZE = 100
# Ids per `$filter=… or …` lookup: about 6 KB of URL, far below the Web API's limit on a GET's length.
IDS_PER_LOOKUP = 100
# Business Central's SALESPEOPLE table filter: users that are enabled and licensed people, not application
# users (the integration user among them) nor non-interactive accounts.
USABLE_USERS = "isdisabled eq false and islicensed eq true and applicationid eq null and accessmode ne 4"
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "systemusers": (
        "systemuserid",
        "fullname",
        "firstname",
        "lastname",
        "internalemailaddress",
        "mobilephone",
        "isdisabled",
        "islicensed",
        "accessmode",
        "applicationid",
    ),
}
DEFAULT_FILTERS: dict[str, str] = {"systemusers": USABLE_USERS}


def id_field(table: str) -> str:
    """The primary key column of an entity set ("accounts" -> "accountid")."""
    return dataverse_logical_name(table) + "id"


def new_record_id() -> str:
    """A fresh primary key for a record this client will create (Dataverse accepts it on create)."""
    return str(uuid.uuid4())


class DataverseClient:
    """Reads and writes Dataverse tables ("accounts", "contacts", "transactioncurrencies", …).

    Thread-safe. `batch` sends sub-batches of `batch_size` several at once within `pacing`; `columns` is
    the `$select` per table for reads that name no columns (the tables' own defaults otherwise).
    """

    system: SystemName = "dataverse"
    thread_safe = True  # one client may take requests from several threads (pages overlap, see passes)
    BATCH_LIMIT = 1000

    def __init__(
        self,
        http: httpx.Client,
        *,
        environment_url: str,
        tokens: TokenProvider,
        retry: RetryPolicy | None = None,
        pacing: PacingLimits | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        columns: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.environment_url = environment_url.rstrip("/")
        self.api_url = self.environment_url + API_PATH
        self.limits = pacing or DATAVERSE_LIMITS
        self.batch_size = max(1, min(batch_size, self.BATCH_LIMIT))
        self.columns = _merged(DEFAULT_COLUMNS, columns or {})
        self.pacer = Pacer(self.limits)
        self._session = ApiSession(
            http,
            system=self.system,
            tokens=tokens,
            scope=dataverse_scope(self.environment_url),
            retry=retry,
            headers={"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"},
            pacing=self.pacer,
        )
        self._runner = BatchRunner(workers=self.limits.max_concurrency, name="dataverse-batch")

    def pacing_stats(self) -> PacingStats:
        """Peak concurrency, the busiest 5-minute window and the throttling seen so far."""
        return self.pacer.stats()

    def close(self) -> None:
        """Stop the batch threads (the HTTP client belongs to the caller)."""
        self._runner.close()

    @property
    def requests_made(self) -> int:
        """HTTP requests sent to the API so far (retries included, token requests not)."""
        return self._session.requests_made

    def entity_url(self, table: str, record_id: str | None = None) -> str:
        """The URL of an entity set, or of one of its rows."""
        url = f"{self.api_url}/{table}"
        return f"{url}({record_id})" if record_id else url

    # -- identity ------------------------------------------------------------------------------------

    def who_am_i(self) -> WhoAmI:
        """The signed-in (application) user, its business unit and organization."""
        answer = self._session.get_json(f"{self.api_url}/WhoAmI", headers=NO_CACHE)
        return WhoAmI(
            user_id=str(answer.get("UserId") or ""),
            business_unit_id=str(answer.get("BusinessUnitId") or ""),
            organization_id=str(answer.get("OrganizationId") or ""),
        )

    def get_user(self, user_id: str) -> SystemUser:
        """A user with the names of its directly assigned security roles; raises NotFound."""
        params = {"$select": USER_COLUMNS, "$expand": USER_ROLES}
        return _system_user(self._session.get_json(self.entity_url("systemusers", user_id), params=params))

    def find_application_user(self, client_id: str) -> SystemUser | None:
        """The application user registered for an Entra client id, or None."""
        params = {
            "$filter": f"applicationid eq {client_id}",
            "$select": USER_COLUMNS,
            "$expand": USER_ROLES,
        }
        answer = self._session.get_json(self.entity_url("systemusers"), params=params, headers=NO_CACHE)
        users = answer.get("value") or []
        return _system_user(users[0]) if users else None

    def user_privileges(self, user_id: str) -> list[str]:
        """Names of the privileges a user holds through its roles and teams (RetrieveUserPrivileges)."""
        url = f"{self.entity_url('systemusers', user_id)}/{USER_PRIVILEGES}"
        answer = self._session.get_json(url, headers=NO_CACHE)
        names = (
            str(entry.get("PrivilegeName") or "")
            for entry in answer.get("RolePrivileges") or []
            if isinstance(entry, dict)
        )
        return list(dict.fromkeys(name for name in names if name))

    # -- reads ---------------------------------------------------------------------------------------

    def iter_changed(
        self,
        table: str,
        *,
        since: datetime | None = None,
        select: list[str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Record]]:
        """Yield pages of records modified after `since` (all records when None), following nextLink.

        Without `select`, the table's configured columns are read. The table's default filter (systemusers:
        the users the SALESPEOPLE mapping can use) applies, except to an id-only scan (`select=[]`), which
        must see every row to tell a deleted record from one outside the filter.
        """
        params: dict[str, str] = {}
        clauses = [] if select == [] or table not in DEFAULT_FILTERS else [DEFAULT_FILTERS[table]]
        if since is not None:
            clauses.append(f"{MODIFIED_FIELD} gt {format_timestamp(since)}")
        if clauses:
            params["$filter"] = " and ".join(clauses)
        wanted = table_select(select, self.columns.get(table))
        columns = select_with(wanted, id_field(table), MODIFIED_FIELD, MODIFIED_BY_FIELD)
        if columns:
            params["$select"] = columns
        headers = {**NO_CACHE, **max_page_size(page_size)}
        for rows in self._session.iter_pages(self.entity_url(table), params=params, headers=headers):
            yield [self._record(table, row) for row in rows]

    def get(self, table: str, record_id: str) -> Record:
        """Return one record; raises NotFound."""
        return self._record(
            table, self._session.get_json(self.entity_url(table, record_id), headers=NO_CACHE)
        )

    def find(self, table: str, field: str, value: Any) -> list[Record]:
        """Rows whose `field` equals `value` exactly (e.g. accounts with accountnumber 'C10000')."""
        params = {"$filter": f"{field} eq {literal(value)}"}
        pages = self._session.iter_pages(self.entity_url(table), params=params, headers=NO_CACHE)
        return [self._record(table, row) for rows in pages for row in rows]

    def find_many(self, table: str, field: str, values: Sequence[Any]) -> list[Record]:
        """Rows whose `field` equals one of `values`, in one request per hundred values."""
        records: list[Record] = []
        unique = list(dict.fromkeys(values))
        for start in range(0, len(unique), IDS_PER_LOOKUP):
            params = {"$filter": any_of(field, unique[start : start + IDS_PER_LOOKUP])}
            columns = select_with(
                list(self.columns[table]) if table in self.columns else None,
                id_field(table),
                MODIFIED_FIELD,
                MODIFIED_BY_FIELD,
            )
            if columns:
                params["$select"] = columns
            pages = self._session.iter_pages(self.entity_url(table), params=params, headers=NO_CACHE)
            records += [self._record(table, row) for rows in pages for row in rows]
        return records

    def get_many(self, table: str, record_ids: Sequence[str]) -> list[Record]:
        """The rows with these ids that exist (after a lost create answer: which ones were created)."""
        return self.find_many(table, id_field(table), [uuid.UUID(str(value)) for value in record_ids])

    # -- writes --------------------------------------------------------------------------------------

    def create(self, table: str, body: dict[str, Any], *, record_id: str | None = None) -> Record:
        """Create a row (lookups as `…@odata.bind` keys) and return it as stored.

        `record_id` is the primary key chosen by the caller (see `new_record_id`), so that a create whose
        answer was lost can be found with `get` instead of being sent again.
        """
        response = self._session.send(
            "POST",
            self._written_url(table),
            json=_with_id(table, body, record_id),
            headers=RETURN_REPRESENTATION,
        )
        return self._written(table, response, record_id=record_id)

    def update(self, table: str, record_id: str, body: dict[str, Any], *, etag: str | None = "*") -> Record:
        """Update a row (If-Match: etag) and return it as stored; raises ConcurrencyConflict."""
        # Without If-Match a Dataverse PATCH is an upsert and would recreate a deleted row: always send it.
        headers = {**RETURN_REPRESENTATION, "If-Match": etag or "*"}
        url = self._written_url(table, record_id)
        response = self._session.send("PATCH", url, json=body, headers=headers)
        return self._written(table, response, record_id=record_id)

    def delete(self, table: str, record_id: str, *, etag: str | None = "*") -> None:
        """Delete a row."""
        self._session.send("DELETE", self.entity_url(table, record_id), headers={"If-Match": etag or "*"})

    def batch(self, operations: list[BatchOperation]) -> list[BatchResult]:
        """Run writes as multipart `$batch` requests of `batch_size` (≤ 1000) requests, several at once.

        One result per operation, in order. No change set: with `Prefer: odata.continue-on-error` one
        refused row does not stop the others. A sub-batch holding creates is never repeated after it may
        have reached the service; creates with a chosen id (`BatchOperation.id`) are then looked up at once
        (the ones found are written), the others come back with outcome "unknown" (see `get_many`).
        """
        results = self._runner.run(operations, self.batch_size, self._run_batch)
        return self._settle_lost_creates(operations, results)

    def _settle_lost_creates(
        self, operations: list[BatchOperation], results: list[BatchResult]
    ) -> list[BatchResult]:
        """Creates with a chosen id whose answer was lost: the ones that exist now were written.

        The rest stay "unknown" (a `$batch` may still be running after the client gave up on it).
        """
        chosen = [_chosen_id(operation) for operation in operations]
        lost = [
            position
            for position, (operation, result) in enumerate(zip(operations, results, strict=True))
            if result.outcome == "unknown" and operation.method == "POST" and chosen[position]
        ]
        by_table: dict[str, list[str]] = {}
        for position in lost:
            by_table.setdefault(operations[position].table, []).append(str(chosen[position]))
        found: dict[str, Record] = {}
        for table, record_ids in by_table.items():
            try:
                found.update((record.id.lower(), record) for record in self.get_many(table, record_ids))
            except ConnectorError:
                return results
        settled = list(results)
        for position in lost:
            record = found.get(str(chosen[position]).lower())
            if record is not None:
                settled[position] = BatchResult(ref=results[position].ref, status=201, record=record)
        return settled

    # -- links ---------------------------------------------------------------------------------------

    def record_url(
        self,
        table: str,
        record: Record | None = None,
        *,
        record_id: str | None = None,
        key: str | None = None,
    ) -> str | None:
        """Link to the row in the Dynamics 365 web app, or None without an id (`key` is not used here)."""
        return dataverse_record_url(self.environment_url, table, record_id or (record.id if record else None))

    # -- internals -----------------------------------------------------------------------------------

    def _written_url(self, table: str, record_id: str | None = None) -> str:
        """Where a write goes; `$select` keeps the row sent back (return=representation) to the columns read.

        Without it Dataverse answers a create or update with every column of the row and its annotations.
        """
        url = self.entity_url(table, record_id)
        wanted = table_select(None, self.columns.get(table))
        columns = select_with(wanted, id_field(table), MODIFIED_FIELD, MODIFIED_BY_FIELD)
        return f"{url}?$select={columns}" if columns else url

    def _record(self, table: str, row: dict[str, Any]) -> Record:
        return to_record(
            self.system,
            table,
            row,
            id_field=id_field(table),
            modified_field=MODIFIED_FIELD,
            modified_by_field=MODIFIED_BY_FIELD,
        )

    def _written(self, table: str, response: httpx.Response, *, record_id: str | None = None) -> Record:
        row = json_body(response)
        if row:
            return self._record(table, row)
        # 204 without a body: the service ignored return=representation; read the row it points at.
        written_id = record_id or _id_from_entity_url(response.headers.get("OData-EntityId"))
        if not written_id:
            return self._record(table, {})
        return self.get(table, written_id)

    def _run_batch(self, chunk: list[BatchOperation]) -> list[BatchResult]:
        boundary = new_boundary()
        parts = [self._batch_part(operation) for operation in chunk]
        response = self._session.send(
            "POST",
            f"{self.api_url}/$batch",
            content=encode_batch(parts, boundary),
            headers={
                "Content-Type": f'multipart/mixed; boundary="{boundary}"',
                "Prefer": "odata.continue-on-error",
            },
            idempotent=not has_create(chunk),
            cost=len(chunk),
        )
        answers = decode_batch(response.headers.get("Content-Type", ""), response.content)
        results: list[BatchResult] = []
        for position, (operation, part) in enumerate(zip(chunk, parts, strict=True)):
            if position < len(answers):
                results.append(self._batch_result(operation, answers[position], part.url))
            else:
                results.append(not_answered(operation, system=self.system, url=part.url))
        return results

    def _batch_part(self, operation: BatchOperation) -> PartRequest:
        headers: dict[str, str] = {}
        if operation.method != "DELETE":
            headers.update(RETURN_REPRESENTATION)
        if operation.method != "POST":
            headers["If-Match"] = operation.etag or "*"
        if operation.method == "POST":
            created = _with_id(operation.table, operation.body or {}, operation.id)
            return PartRequest("POST", self._written_url(operation.table), headers, created)
        if operation.method == "DELETE":
            return PartRequest("DELETE", self.entity_url(operation.table, operation.id), headers, None)
        url = self._written_url(operation.table, operation.id)
        return PartRequest(operation.method, url, headers, operation.body)

    def _batch_result(self, operation: BatchOperation, answer: PartResponse, url: str) -> BatchResult:
        row = parse_json_object(answer.content)
        if 200 <= answer.status < 300:
            record = None
            if operation.method != "DELETE":
                record = self._record(operation.table, row) if row else self._bare_record(operation, answer)
            return BatchResult(ref=operation.ref, status=answer.status, record=record)
        error = error_from_answer(
            answer.status,
            row,
            answer.headers,
            system=self.system,
            method=operation.method,
            url=url,
            reason=answer.reason,
        )
        return BatchResult(ref=operation.ref, status=answer.status, error=error)

    def _bare_record(self, operation: BatchOperation, answer: PartResponse) -> Record:
        written_id = operation.id or _id_from_entity_url(answer.headers.get("OData-EntityId"))
        return self._record(
            operation.table, {id_field(operation.table): written_id, **(operation.body or {})}
        )


def _chosen_id(operation: BatchOperation) -> str | None:
    """The primary key a create carries: `BatchOperation.id`, or the id column set in its body."""
    if operation.method != "POST":
        return None
    value = operation.id or (operation.body or {}).get(id_field(operation.table))
    return str(value) if value else None


def _with_id(table: str, body: dict[str, Any], record_id: str | None) -> dict[str, Any]:
    """The create body carrying the caller's chosen primary key, when there is one."""
    return {id_field(table): record_id, **body} if record_id else body


def _merged(
    defaults: Mapping[str, Sequence[str]], configured: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    tables = {*defaults, *configured}
    return {
        table: tuple(dict.fromkeys([*defaults.get(table, ()), *configured.get(table, ())]))
        for table in tables
    }


def _id_from_entity_url(url: str | None) -> str | None:
    match = _ENTITY_ID.search(url or "")
    return match.group(1) if match else None


def _system_user(row: dict[str, Any]) -> SystemUser:
    roles = row.get("systemuserroles_association") or []
    application_id = row.get("applicationid")
    return SystemUser(
        id=str(row.get("systemuserid") or ""),
        fullname=str(row.get("fullname") or ""),
        access_mode=int(row.get("accessmode") or 0),
        is_disabled=bool(row.get("isdisabled")),
        application_id=str(application_id) if application_id else None,
        roles=[str(role.get("name")) for role in roles if isinstance(role, dict) and role.get("name")],
    )
