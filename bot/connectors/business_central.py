"""Business Central API v2.0 as a BusinessApp: one company's entities, typed errors, JSON `$batch`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from bot.connectors.auth import BUSINESS_CENTRAL_SCOPE, TokenProvider
from bot.connectors.batching import BatchRunner, has_create, not_answered
from bot.connectors.errors import ConnectorError, NotFound
from bot.connectors.failures import error_from_answer, json_body
from bot.connectors.links import (
    BUSINESS_CENTRAL_PAGES,
    business_central_record_url,
    business_central_web_url_from_api,
)
from bot.connectors.models import BatchOperation, BatchResult, ContactRelation, Record, SystemName
from bot.connectors.odata import (
    any_of,
    format_timestamp,
    literal,
    max_page_size,
    row_fields,
    select_with,
    table_select,
    to_record,
)
from bot.connectors.pacing import BUSINESS_CENTRAL_LIMITS, Pacer, PacingLimits, PacingStats
from bot.connectors.retry import RetryPolicy
from bot.connectors.transport import ApiSession

ID_FIELD = "id"
CODE_KEYED = frozenset({"currencies", "salespeople", "paymentTerms", "shipmentMethods"})
MODIFIED_FIELD = "lastModifiedDateTime"
DEFAULT_BATCH_SIZE = 100
VALUES_PER_LOOKUP = 100  # `number eq '…' or …` terms per request


class BusinessCentralClient:
    """Reads and writes one Business Central company's entities ("customers", "contacts", "currencies", …).

    Thread-safe. `batch` sends sub-batches of `batch_size` (≤ 100) several at once within `pacing`;
    `columns` is the `$select` per entity set for reads that name no columns.
    """

    system: SystemName = "business_central"
    thread_safe = True  # one client may take requests from several threads (pages overlap, see passes)
    BATCH_LIMIT = 100

    def __init__(
        self,
        http: httpx.Client,
        *,
        api_url: str,
        tokens: TokenProvider,
        company_id: str | None = None,
        web_url: str | None = None,
        retry: RetryPolicy | None = None,
        pacing: PacingLimits | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        columns: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.limits = pacing or BUSINESS_CENTRAL_LIMITS
        self.batch_size = max(1, min(batch_size, self.BATCH_LIMIT))
        self.columns = {table: tuple(names) for table, names in (columns or {}).items()}
        self.pacer = Pacer(self.limits)
        self.web_url = web_url.rstrip("/") if web_url else business_central_web_url_from_api(self.api_url)
        self._session = ApiSession(
            http,
            system=self.system,
            tokens=tokens,
            scope=BUSINESS_CENTRAL_SCOPE,
            retry=retry,
            headers={"Accept": "application/json"},
            pacing=self.pacer,
        )
        self._runner = BatchRunner(workers=self.limits.max_concurrency, name="bc-batch")
        self._company_id = company_id
        self._companies: list[dict[str, Any]] | None = None

    @property
    def requests_made(self) -> int:
        """HTTP requests sent to the API so far (retries included, token requests not)."""
        return self._session.requests_made

    def pacing_stats(self) -> PacingStats:
        """Peak concurrency, the busiest 5-minute window and the throttling seen so far."""
        return self.pacer.stats()

    def close(self) -> None:
        """Stop the batch threads (the HTTP client belongs to the caller)."""
        self._runner.close()

    # -- company -------------------------------------------------------------------------------------

    def companies(self) -> list[dict[str, Any]]:
        """Every company of the environment (`id`, `name`, `displayName`, …)."""
        rows = [row for page in self._session.iter_pages(f"{self.api_url}/companies") for row in page]
        self._companies = [row_fields(row) for row in rows]
        return list(self._companies)

    @property
    def company_id(self) -> str:
        """The configured company, or the first one when none was configured (looked up once)."""
        if self._company_id is None:
            companies = self._companies if self._companies is not None else self.companies()
            if not companies:
                raise NotFound(
                    message="Business Central has no company.",
                    system=self.system,
                    method="GET",
                    url=f"{self.api_url}/companies",
                )
            self._company_id = str(companies[0][ID_FIELD])
        return self._company_id

    def company_name(self) -> str:
        """The company's name, as the web client's `company=` parameter expects it."""
        company_id = self.company_id
        companies = self._companies if self._companies is not None else self.companies()
        for company in companies:
            if str(company.get(ID_FIELD)) == company_id:
                return str(company.get("name") or company.get("displayName") or "")
        raise NotFound(
            message=f"Business Central has no company with id {company_id}.",
            system=self.system,
            method="GET",
            url=f"{self.api_url}/companies",
        )

    def entity_url(self, table: str, record_id: str | None = None) -> str:
        """The URL of an entity set of the company, or of one of its records."""
        return self.api_url + "/" + self._relative_url(table, record_id)

    # -- reads ---------------------------------------------------------------------------------------

    def iter_changed(
        self,
        table: str,
        *,
        since: datetime | None = None,
        select: list[str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Record]]:
        """Yield pages of records modified after `since` (all records when None), following nextLink."""
        params: dict[str, str] = {}
        if since is not None:
            params["$filter"] = f"{MODIFIED_FIELD} gt {format_timestamp(since)}"
        columns = select_with(table_select(select, self.columns.get(table)), ID_FIELD, MODIFIED_FIELD)
        if columns:
            params["$select"] = columns
        pages = self._session.iter_pages(
            self.entity_url(table), params=params, headers=max_page_size(page_size)
        )
        for rows in pages:
            yield [self._record(table, row) for row in rows]

    def contact_relations(self) -> list[ContactRelation]:
        """Every contact's business relation (contactsInformation): which customer a company contact
        (and its persons) belongs to."""
        params = {"$select": "contactId,contactNumber,contactType,relatedId,relatedType"}
        relations: list[ContactRelation] = []
        for rows in self._session.iter_pages(self.entity_url("contactsInformation"), params=params):
            for row in rows:
                if row.get("contactId") and row.get("relatedId"):
                    relations.append(
                        ContactRelation(
                            contact_id=str(row["contactId"]).lower(),
                            contact_number=str(row.get("contactNumber") or ""),
                            contact_type=str(row.get("contactType") or ""),
                            related_id=str(row["relatedId"]).lower(),
                            related_type=str(row.get("relatedType") or ""),
                        )
                    )
        return relations

    def get(self, table: str, record_id: str) -> Record:
        """Return one record; raises NotFound."""
        return self._record(table, self._session.get_json(self.entity_url(table, record_id)))

    def find(self, table: str, field: str, value: Any) -> list[Record]:
        """Records whose `field` equals `value` exactly (e.g. customers with number '10000')."""
        params = {"$filter": f"{field} eq {literal(value)}"}
        pages = self._session.iter_pages(self.entity_url(table), params=params)
        return [self._record(table, row) for rows in pages for row in rows]

    def find_many(self, table: str, field: str, values: Sequence[Any]) -> list[Record]:
        """Records whose `field` equals one of `values` (e.g. customers by number), a hundred per request."""
        records: list[Record] = []
        unique = list(dict.fromkeys(values))
        for start in range(0, len(unique), VALUES_PER_LOOKUP):
            params = {"$filter": any_of(field, unique[start : start + VALUES_PER_LOOKUP])}
            columns = select_with(
                list(self.columns[table]) if table in self.columns else None, ID_FIELD, MODIFIED_FIELD
            )
            if columns:
                params["$select"] = columns
            pages = self._session.iter_pages(self.entity_url(table), params=params)
            records += [self._record(table, row) for rows in pages for row in rows]
        return records

    def find_by_numbers(self, table: str, numbers: Sequence[str]) -> list[Record]:
        """Records by their No. (`number`; `code` for currencies and salespeople)."""
        return self.find_many(table, "code" if table in CODE_KEYED else "number", list(numbers))

    def get_many(self, table: str, record_ids: Sequence[str]) -> list[Record]:
        """The records with these ids (SystemId) that exist."""
        return self.find_many(table, ID_FIELD, [uuid.UUID(str(value)) for value in record_ids])

    # -- writes --------------------------------------------------------------------------------------

    def create(self, table: str, body: dict[str, Any]) -> Record:
        """Create a record and return it as stored."""
        response = self._session.send("POST", self.entity_url(table), json=body)
        return self._record(table, json_body(response) or {})

    def update(self, table: str, record_id: str, body: dict[str, Any], *, etag: str | None = "*") -> Record:
        """Update a record (If-Match: etag) and return it as stored; raises ConcurrencyConflict."""
        url = self.entity_url(table, record_id)
        response = self._session.send("PATCH", url, json=body, headers={"If-Match": etag or "*"})
        row = json_body(response)
        return self._record(table, row) if row else self.get(table, record_id)

    def delete(self, table: str, record_id: str, *, etag: str | None = "*") -> None:
        """Delete a record."""
        self._session.send("DELETE", self.entity_url(table, record_id), headers={"If-Match": etag or "*"})

    def batch(self, operations: list[BatchOperation]) -> list[BatchResult]:
        """Run writes as JSON `$batch` requests of `batch_size` (≤ 100) operations, several at once.

        One result per operation, in order; a sub-batch holding creates is never repeated after it may
        have reached the service (its creates come back "unknown": find them by number, `find_by_numbers`).
        """
        return self._runner.run(operations, self.batch_size, self._run_batch)

    # -- links ---------------------------------------------------------------------------------------

    def record_url(
        self,
        table: str,
        record: Record | None = None,
        *,
        record_id: str | None = None,
        key: str | None = None,
    ) -> str | None:
        """Web-client link to the record's card (filtered on No./Code), or None when it cannot be built."""
        page = BUSINESS_CENTRAL_PAGES.get(table)
        if page is None or self.web_url is None:
            return None
        if key is None and record is not None:
            value = record.fields.get(page.key_property)
            key = str(value) if value not in (None, "") else None
        if not key:
            return None
        try:
            company_name = self.company_name()
        except ConnectorError:
            return None
        return business_central_record_url(self.web_url, company_name, table, key)

    # -- internals -----------------------------------------------------------------------------------

    def _relative_url(self, table: str, record_id: str | None = None) -> str:
        path = f"companies({self.company_id})/{table}"
        return f"{path}({record_id})" if record_id else path

    def _record(self, table: str, row: dict[str, Any]) -> Record:
        return to_record(self.system, table, row, id_field=ID_FIELD, modified_field=MODIFIED_FIELD)

    def _run_batch(self, chunk: list[BatchOperation]) -> list[BatchResult]:
        requests = [self._batch_request(str(number), operation) for number, operation in enumerate(chunk)]
        response = self._session.send(
            "POST",
            f"{self.api_url}/$batch",
            json={"requests": requests},
            headers={"Content-Type": "application/json"},
            idempotent=not has_create(chunk),
            cost=len(chunk),
        )
        answers = {
            str(answer.get("id")): answer for answer in (json_body(response) or {}).get("responses", [])
        }
        results: list[BatchResult] = []
        for number, operation in enumerate(chunk):
            url = self.entity_url(operation.table, operation.id)
            answer = answers.get(str(number))
            if answer is None:
                results.append(not_answered(operation, system=self.system, url=url))
            else:
                results.append(self._batch_result(operation, answer, url))
        return results

    def _batch_request(self, request_id: str, operation: BatchOperation) -> dict[str, Any]:
        request: dict[str, Any] = {
            "method": operation.method,
            "id": request_id,
            "url": self._relative_url(operation.table, operation.id),
            "headers": {},
        }
        if operation.method != "POST":
            request["headers"]["If-Match"] = operation.etag or "*"
        if operation.body is not None and operation.method != "DELETE":
            request["headers"]["Content-Type"] = "application/json"
            request["body"] = operation.body
        return request

    def _batch_result(self, operation: BatchOperation, answer: dict[str, Any], url: str) -> BatchResult:
        status = int(answer.get("status") or 0)
        body = answer.get("body")
        row = body if isinstance(body, dict) else None
        if 200 <= status < 300:
            record = self._record(operation.table, row) if row and operation.method != "DELETE" else None
            return BatchResult(ref=operation.ref, status=status, record=record)
        headers = httpx.Headers(answer.get("headers") or {})
        error = error_from_answer(status, row, headers, system=self.system, method=operation.method, url=url)
        return BatchResult(ref=operation.ref, status=status, error=error)
