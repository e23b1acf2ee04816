"""In-memory stand-ins for the Business Central and Dataverse connectors (the BusinessApp protocols)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.connectors.errors import ConcurrencyConflict, ConnectorError, NotFound
from bot.connectors.models import (
    BatchOperation,
    BatchResult,
    ContactRelation,
    Record,
    SystemName,
    SystemUser,
    WhoAmI,
)

INTEGRATION_USER = "00000000-0000-0000-0000-00000000a001"
PERSON_USER = "00000000-0000-0000-0000-00000000b001"
BC_BATCH_LIMIT = 100
DV_BATCH_LIMIT = 1000


class FakeClock:
    """A clock both fake apps share; every write moves it forward one second."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

    def tick(self) -> datetime:
        """Advance one second and return the new time."""
        self.now += timedelta(seconds=1)
        return self.now

    def __call__(self) -> datetime:
        return self.now


class FrozenClock(FakeClock):
    """A clock that stands still: every write, the engine's and a person's, has the same modified-on."""

    def tick(self) -> datetime:
        """Return the same time again."""
        return self.now


Fault = Callable[[str, str, dict[str, Any] | None], ConnectorError | None]


@dataclass
class _Row:
    fields: dict[str, Any]
    modified_at: datetime
    modified_by: str | None
    version: int = 1


@dataclass
class FakeStore:
    """One business app in memory: tables of rows with modified-on, ETags, paging, `$batch` and faults."""

    system: SystemName
    clock: FakeClock
    tables: dict[str, dict[str, _Row]] = field(default_factory=dict)
    requests: int = 0
    batch_requests: int = 0
    get_requests: int = 0
    faults: list[Fault] = field(default_factory=list)
    batch_error: ConnectorError | None = None  # raised by the next batch() as a whole
    after_batch: Callable[[int], None] | None = None  # called with the number of batch() calls so far
    batch_calls: int = 0
    selects: list[tuple[str, list[str] | None]] = field(default_factory=list)  # (table, $select) per read
    relations: dict[str, str] = field(default_factory=dict)  # BC: company contact id -> customer id

    @property
    def batch_limit(self) -> int:
        """Operations per `$batch` request."""
        return BC_BATCH_LIMIT if self.system == "business_central" else DV_BATCH_LIMIT

    @property
    def actor(self) -> str | None:
        """Who the connector writes as (Dataverse: the integration user)."""
        return INTEGRATION_USER if self.system == "dataverse" else None

    # ---- helpers for tests ---------------------------------------------------------------------

    def relate(self, company_contact_id: str, customer_id: str) -> None:
        """Business Central's business relation between a company contact and a customer."""
        self.relations[company_contact_id] = customer_id

    def contact_relations(self) -> list[ContactRelation]:
        """contactInformation: each related company contact, and the persons of that company."""
        contacts = self.tables.get("contacts", {})
        numbers = {str(row.fields.get("number")): rid for rid, row in contacts.items()}
        found = []
        for rid, row in contacts.items():
            company = (
                rid
                if row.fields.get("type") == "Company"
                else numbers.get(str(row.fields.get("companyNumber")))
            )
            customer = self.relations.get(company or "")
            if customer is not None and customer in self.tables.get("customers", {}):
                found.append(
                    ContactRelation(
                        rid, str(row.fields.get("number")), str(row.fields.get("type")), customer, "Customer"
                    )
                )
        return found

    def put(self, table: str, fields: dict[str, Any], *, by: str | None = PERSON_USER) -> Record:
        """Add or change a row as a person would (not the integration user); returns it."""
        rows = self.tables.setdefault(table, {})
        record_id = str(fields.get("id") or uuid.uuid4())
        existing = rows.get(record_id)
        merged = {**(existing.fields if existing else {}), **{k: v for k, v in fields.items() if k != "id"}}
        self._derive(table, merged)
        version = existing.version + 1 if existing else 1
        modified_by = by if self.system == "dataverse" else None
        rows[record_id] = _Row(merged, self.clock.tick(), modified_by, version)
        return self._record(table, record_id)

    def edit(self, table: str, record_id: str, **fields: Any) -> Record:
        """Change fields of an existing row as a person."""
        assert record_id in self.tables.get(table, {}), f"no {table} {record_id}"
        return self.put(table, {"id": record_id, **fields})

    def remove(self, table: str, record_id: str) -> None:
        """Delete a row behind the engine's back."""
        self.tables.get(table, {}).pop(record_id, None)

    def rows(self, table: str) -> list[Record]:
        """Every row of a table as records."""
        return [self._record(table, rid) for rid in self.tables.get(table, {})]

    def find(self, table: str, **match: Any) -> list[Record]:
        """Rows whose fields equal the given values."""
        return [r for r in self.rows(table) if all(r.fields.get(k) == v for k, v in match.items())]

    # ---- BusinessApp ---------------------------------------------------------------------------

    def iter_changed(
        self,
        table: str,
        *,
        since: datetime | None = None,
        select: list[str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Record]]:
        """Pages of rows modified after `since`, oldest first; one request per page."""
        self.selects.append((table, select))
        rows = self.tables.get(table, {})
        chosen = sorted(
            (rid for rid, row in rows.items() if since is None or row.modified_at > since),
            key=lambda rid: (rows[rid].modified_at, rid),
        )
        size = page_size or 1000
        self.requests += 1
        if not chosen:
            yield []
            return
        for start in range(0, len(chosen), size):
            if start:
                self.requests += 1
            yield [self._record(table, rid) for rid in chosen[start : start + size]]

    def get(self, table: str, record_id: str) -> Record:
        """One row; raises NotFound."""
        self.requests += 1
        self.get_requests += 1
        self._check("GET", table, None)
        if record_id not in self.tables.get(table, {}):
            raise NotFound(
                message=f"The {table} record {record_id} does not exist.", status=404, system=self.system
            )
        return self._record(table, record_id)

    def create(self, table: str, body: dict[str, Any]) -> Record:
        """Create a row as the integration user."""
        self.requests += 1
        return self._create(table, body)

    def update(self, table: str, record_id: str, body: dict[str, Any], *, etag: str | None = "*") -> Record:
        """Update a row as the integration user (If-Match honoured)."""
        self.requests += 1
        return self._update(table, record_id, body, etag)

    def delete(self, table: str, record_id: str, *, etag: str | None = "*") -> None:
        """Delete a row."""
        self.requests += 1
        self._check("DELETE", table, None)
        if self.tables.get(table, {}).pop(record_id, None) is None:
            raise NotFound(
                message=f"The {table} record {record_id} does not exist.", status=404, system=self.system
            )

    def batch(self, operations: list[BatchOperation]) -> list[BatchResult]:
        """Run writes in `$batch` requests of the app's limit; one result per operation."""
        self.batch_calls += 1
        if self.batch_error is not None:
            error, self.batch_error = self.batch_error, None
            self.requests += 1
            raise error
        chunks = max(1, -(-len(operations) // self.batch_limit))
        self.requests += chunks
        self.batch_requests += chunks
        results = []
        for op in operations:
            try:
                if op.method == "POST":
                    record = self._create(op.table, op.body or {})
                    results.append(BatchResult(op.ref, 201, record=record))
                elif op.method == "PATCH":
                    record = self._update(op.table, op.id or "", op.body or {}, op.etag)
                    results.append(BatchResult(op.ref, 200, record=record))
                else:
                    self._check("DELETE", op.table, None)
                    if self.tables.get(op.table, {}).pop(op.id or "", None) is None:
                        raise NotFound(message="Record not found.", status=404, system=self.system)
                    results.append(BatchResult(op.ref, 204))
            except ConnectorError as exc:
                results.append(BatchResult(op.ref, exc.status or 400, error=exc))
        if self.after_batch is not None:
            self.after_batch(self.batch_calls)
        return results

    def record_url(
        self,
        table: str,
        record: Record | None = None,
        *,
        record_id: str | None = None,
        key: str | None = None,
    ) -> str | None:
        """A made-up web-client link."""
        rid = record.id if record is not None else record_id
        return f"https://{self.system}.example/{table}/{rid or key}" if (rid or key) else None

    # ---- internals -----------------------------------------------------------------------------

    def _check(self, method: str, table: str, body: dict[str, Any] | None) -> None:
        for fault in self.faults:
            error = fault(method, table, body)
            if error is not None:
                raise error

    def _create(self, table: str, body: dict[str, Any]) -> Record:
        self._check("POST", table, body)
        # Dataverse takes the primary key chosen by the client (e.g. accountid) and refuses a taken one.
        key = f"{table[:-1] if not table.endswith('ies') else table[:-3] + 'y'}id"
        record_id = str(body.get(key) or uuid.uuid4()) if self.system == "dataverse" else str(uuid.uuid4())
        if record_id in self.tables.get(table, {}):
            raise ConcurrencyConflict(
                message="A record with matching key values already exists.", status=412, system=self.system
            )
        fields = self._apply_binds({k: v for k, v in body.items() if k != key})
        self._derive(table, fields)
        self.tables.setdefault(table, {})[record_id] = _Row(fields, self.clock.tick(), self.actor)
        if self.system == "business_central" and table == "customers":
            # As Business Central's default marketing setup: a new customer gets its company contact.
            number = f"CTN{len(self.tables.get('contacts', {})):05d}"
            name = fields.get("displayName")
            company = {"number": number, "type": "Company", "displayName": name, "companyNumber": number}
            contact_id = str(uuid.uuid4())
            self.tables.setdefault("contacts", {})[contact_id] = _Row(company, self.clock.tick(), self.actor)
            self.relate(contact_id, record_id)
        return self._record(table, record_id)

    def _update(self, table: str, record_id: str, body: dict[str, Any], etag: str | None) -> Record:
        self._check("PATCH", table, body)
        row = self.tables.get(table, {}).get(record_id)
        if row is None:
            raise NotFound(
                message=f"The {table} record {record_id} does not exist.", status=404, system=self.system
            )
        if etag not in (None, "*") and etag != self._etag(row):
            raise ConcurrencyConflict(message="Another user has already changed the record.", status=412)
        row.fields.update(self._apply_binds(dict(body)))
        self._derive(table, row.fields)
        row.modified_at = self.clock.tick()
        row.modified_by = self.actor
        row.version += 1
        return self._record(table, record_id)

    @staticmethod
    def _apply_binds(body: dict[str, Any]) -> dict[str, Any]:
        for name in [k for k in body if k.endswith("@odata.bind")]:
            target = str(body.pop(name))
            navigation = name.removesuffix("@odata.bind")
            if navigation.startswith("parentcustomerid_"):
                navigation = "parentcustomerid"
            body[f"_{navigation}_value"] = target[target.index("(") + 1 : -1] if "(" in target else None
        return body

    def _derive(self, table: str, fields: dict[str, Any]) -> None:
        if self.system == "dataverse" and table == "contacts":
            fields["fullname"] = " ".join(p for p in (fields.get("firstname"), fields.get("lastname")) if p)

    def _etag(self, row: _Row) -> str:
        return f'W/"{row.version}"'

    def _record(self, table: str, record_id: str) -> Record:
        row = self.tables[table][record_id]
        return Record(
            system=self.system,
            table=table,
            id=record_id,
            fields=dict(row.fields),
            etag=self._etag(row),
            modified_at=row.modified_at,
            modified_by=row.modified_by,
        )


@dataclass
class FakeDataverse(FakeStore):
    """The Dataverse fake, which also answers WhoAmI and the integration user's roles."""

    roles: list[str] = field(default_factory=lambda: ["Business Central Dataverse Integration"])
    sign_in_error: ConnectorError | None = None

    def who_am_i(self) -> WhoAmI:
        """The integration user."""
        self.requests += 1
        if self.sign_in_error is not None:
            raise self.sign_in_error
        return WhoAmI(user_id=INTEGRATION_USER, business_unit_id="bu", organization_id="org")

    def get_user(self, user_id: str) -> SystemUser:
        """The integration user with its roles."""
        self.requests += 1
        return SystemUser(
            id=user_id,
            fullname="# Business Central Integration",
            access_mode=4,
            is_disabled=False,
            application_id="app",
            roles=list(self.roles),
        )


def make_stores(clock: FakeClock | None = None) -> tuple[FakeStore, FakeDataverse]:
    """An empty Business Central fake and an empty Dataverse fake sharing one clock."""
    clock = clock or FakeClock()
    return FakeStore("business_central", clock), FakeDataverse("dataverse", clock)


def seed_basics(bc: FakeStore, dv: FakeDataverse, *, customers: int = 3) -> None:
    """Two currencies with rates, a salesperson and its user, `customers` customers with a contact each."""
    for code, name, symbol in (("EUR", "Euro", "€"), ("USD", "US Dollar", "$")):
        bc.put("currencies", {"code": code, "displayName": name, "symbol": symbol})
        bc.put(
            "currencyExchangeRates",
            {
                "currencyCode": code,
                "startingDate": "2026-01-01",
                "exchangeAmount": 100,
                "relationalExchangeAmount": 80,
            },
        )
    bc.put("salespeople", {"code": "JO", "displayName": "Jim Olive", "email": "jo@example.com"})
    dv.put(
        "systemusers",
        {
            "fullname": "Jim Olive",
            "internalemailaddress": "jo@example.com",
            "isdisabled": False,
            "applicationid": None,
        },
    )
    for n in range(customers):
        number = str(10000 + n * 10000)
        customer = bc.put(
            "customers",
            {
                "number": number,
                "displayName": f"Customer {n}",
                "email": f"c{n}@example.com",
                "city": "Praha",
                "currencyCode": "EUR" if n % 2 else "",
                "salespersonCode": "JO",
                "blocked": " ",
                "creditLimit": 1000,
            },
        )
        company = f"CT{n:04d}0"
        company_contact = bc.put(
            "contacts",
            {
                "number": company,
                "type": "Company",
                "displayName": f"Customer {n}",
                "companyNumber": company,
                "companyName": f"Customer {n}",
            },
        )
        bc.relate(company_contact.id, customer.id)
        bc.put(
            "contacts",
            {
                "number": f"CT{n:04d}1",
                "type": "Person",
                "displayName": f"Anna Maria Person{n}",
                "companyNumber": company,
                "companyName": f"Customer {n}",
                "email": f"p{n}@example.com",
            },
        )


def create_new_records(db: Any) -> None:
    """Clear "Synch. Only Coupled Records" on every mapping: new records get a partner on the other side."""
    from sqlmodel import Session, select

    from storage.models import Mapping

    with Session(db) as session:
        for row in session.exec(select(Mapping)).all():
            row.sync_only_coupled = False
            session.add(row)
        session.commit()
