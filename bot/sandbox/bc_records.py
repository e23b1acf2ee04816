"""Business Central's table logic behind the API pages: validation, numbering, ETags, modified-on."""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.api_error import ApiError
from bot.sandbox.schema import BC_ENTITIES, Entity
from bot.sandbox.store import DataStore, Row
from bot.sandbox.timestamps import business_central_timestamp, utc_now
from bot.sandbox.values import EMPTY_GUID, ValueTypeError, coerce

TYPE_PREFIX = "Microsoft.NAV"
_NUMBER_SERIES = {"customers": ("", 10000, 0), "contacts": ("CT", 10, 6), "items": ("", 10, 0)}


def not_found(entity: Entity, record_id: str) -> ApiError:
    """BC's answer for a missing record."""
    return ApiError(
        404,
        "BadRequest_NotFound",
        f"The {entity.caption} does not exist. Identification fields and "
        f"values: Id='{{{record_id.upper()}}}'",
    )


class BusinessCentralRecords:
    """Reads and writes Business Central rows the way its API pages validate them."""

    def __init__(self, store: DataStore) -> None:
        self.store = store

    def entity(self, table: str) -> Entity:
        """The entity for an entity-set name; raises the 404 BC gives for an unknown segment."""
        entity = BC_ENTITIES.get(table)
        if entity is None:
            raise ApiError(404, "BadRequest_NotFound", f"Resource not found for the segment '{table}'.")
        return entity

    def rows(self, table: str) -> list[Row]:
        """All rows of a table (the stored dicts; callers copy before handing out)."""
        with self.store.lock:
            if table == CONTACT_INFORMATION:
                return self._contact_information()
            return list(self.store.table("bc", table).values())

    def relate(self, company_contact_id: str, customer_id: str) -> None:
        """Record the business relation of a company contact to a customer (Contact Business Relation)."""
        with self.store.lock:
            self.store.put(
                "bc",
                RELATIONS,
                company_contact_id,
                {"contactId": company_contact_id, "relatedId": customer_id},
            )

    def _contact_information(self) -> list[Row]:
        """contactInformation rows: each related company contact, and the persons of that company."""
        contacts = self.store.table("bc", "contacts")
        by_number = {str(c.get("number")): c for c in contacts.values()}
        related = {r["contactId"]: r["relatedId"] for r in self.store.table("bc", RELATIONS).values()}
        rows: list[Row] = []
        for contact in contacts.values():
            company = (
                contact
                if contact.get("type") == "Company"
                else by_number.get(str(contact.get("companyNumber")))
            )
            customer_id = related.get(str(company["id"])) if company is not None else None
            if customer_id is None or customer_id not in self.store.table("bc", "customers"):
                continue
            rows.append(
                {
                    "contactId": contact["id"],
                    "contactNumber": contact.get("number"),
                    "contactName": contact.get("displayName"),
                    "contactType": contact.get("type"),
                    "relatedId": customer_id,
                    "relatedType": "Customer",
                }
            )
        return rows

    def get(self, table: str, record_id: str) -> Row:
        """One row by id; 404 in BC's words when missing."""
        entity = self.entity(table)
        with self.store.lock:
            row = self.store.table("bc", table).get(record_id.lower())
            if row is None:
                raise not_found(entity, record_id)
            return dict(row)

    def create(self, table: str, body: dict[str, Any]) -> Row:
        """Insert a record; assigns the id, the next number when none is given, ETag and modified-on."""
        entity = self.entity(table)
        with self.store.lock:
            values = self._validated(entity, body)
            row: Row = {name: _default(entity, name) for name in entity.field_names}
            row.update(values)
            row["id"] = self.store.new_id()
            if entity.number_field and not row.get(entity.number_field) and table in _NUMBER_SERIES:
                row[entity.number_field] = self._next_number(table)
            self._check_rules(entity, row, existing_id=None, changed=set(row))
            stamped = self._stamp(table, row)
            if table == "customers":
                self._company_contact_for(stamped)
            return stamped

    def _company_contact_for(self, customer: Row) -> None:
        # Marketing Setup's "Bus. Rel. Code for Customers": a new customer gets its company contact and the
        # business relation between them, as Business Central's default setup does.
        contact: Row = {
            name: _default(self.entity("contacts"), name) for name in self.entity("contacts").field_names
        }
        contact.update(
            {
                "id": self.store.new_id(),
                "number": self._next_number("contacts"),
                "type": "Company",
                "displayName": customer.get("displayName") or "",
                "addressLine1": customer.get("addressLine1") or "",
                "city": customer.get("city") or "",
                "postalCode": customer.get("postalCode") or "",
                "country": customer.get("country") or "",
                "phoneNumber": customer.get("phoneNumber") or "",
                "email": customer.get("email") or "",
            }
        )
        contact["companyNumber"] = contact["number"]
        contact["companyName"] = contact["displayName"]
        company = self._stamp("contacts", contact)
        self.store.put(
            "bc", RELATIONS, company["id"], {"contactId": company["id"], "relatedId": customer["id"]}
        )

    def update(self, table: str, record_id: str, body: dict[str, Any], if_match: str | None) -> Row:
        """Modify a record; If-Match must be the current ETag or `*`."""
        entity = self.entity(table)
        with self.store.lock:
            current = self.get(table, record_id)
            self._check_etag(current, if_match)
            values = self._validated(entity, body)
            row = {**current, **values}
            self._check_rules(entity, row, existing_id=current["id"], changed=set(values))
            return self._stamp(table, row)

    def delete(self, table: str, record_id: str, if_match: str | None) -> None:
        """Delete a record; If-Match must be the current ETag or `*`."""
        with self.store.lock:
            current = self.get(table, record_id)
            self._check_etag(current, if_match)
            self.store.remove("bc", table, current["id"])

    def _check_etag(self, current: Row, if_match: str | None) -> None:
        if if_match is None:
            raise ApiError(
                428, "BadRequest", "A 'If-Match' header must be specified for this kind of request."
            )
        if if_match.strip() != "*" and if_match.strip() != current["@odata.etag"]:
            raise ApiError(409, "Request_EntityChanged", "Another user has already changed the record.")

    def _validated(self, entity: Entity, body: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in body.items():
            if name.startswith("@odata."):
                continue
            field = entity.field(name)
            if field is None:
                raise ApiError(
                    400,
                    "BadRequest",
                    f"The property '{name}' does not exist on type '{TYPE_PREFIX}.{entity.type_name}'. Make "
                    "sure to only use property names that are defined by the type.",
                )
            if field.read_only:
                continue
            try:
                coerced = coerce(field, value)
            except ValueTypeError as error:
                raise ApiError(400, "BadRequest", str(error)) from error
            if field.kind == "string":
                coerced = coerced or ""
                if field.choices and coerced not in field.choices:
                    raise ApiError(
                        400,
                        "BadRequest",
                        f"Cannot convert the literal '{coerced}' to the expected type "
                        f"'{TYPE_PREFIX}.{entity.type_name}{name[0].upper()}{name[1:]}'.",
                    )
                if field.max_length is not None and len(coerced) > field.max_length:
                    raise ApiError(
                        400,
                        "Application_StringExceededLength",
                        f"The length of the string is {len(coerced)}, but it must be less than or equal to "
                        f"{field.max_length} characters. Value: {coerced}",
                    )
            values[name] = coerced
        return values

    def _find(self, table: str, name: str, value: str) -> Row | None:
        wanted = value.casefold()
        return next(
            (
                row
                for row in self.store.table("bc", table).values()
                if str(row.get(name, "")).casefold() == wanted
            ),
            None,
        )

    def _relation_error(self, entity: Entity, caption: str, value: str, related: str) -> ApiError:
        return ApiError(
            400,
            "Internal_InvalidTableRelation",
            f"The field {caption} of table {entity.caption} contains a value "
            f"({value}) that cannot be found in "
            f"the related table ({related}).",
        )

    def _check_rules(self, entity: Entity, row: Row, existing_id: str | None, changed: set[str]) -> None:
        key_field = entity.number_field
        if key_field and key_field in changed and row.get(key_field):
            other = self._find(entity.entity_set, key_field, row[key_field])
            if other is not None and other["id"] != existing_id:
                field = entity.field(key_field)
                caption = field.caption if field else key_field
                raise ApiError(
                    400,
                    "Internal_EntityWithSameKeyExists",
                    f"The record in table {entity.caption} already exists. Identification fields and values: "
                    f"{caption}='{row[key_field]}'",
                )
        if entity.entity_set == "customers":
            self._check_customer(entity, row)
        elif entity.entity_set == "contacts" and changed & {"companyNumber", "type", "displayName", "number"}:
            self._check_contact(entity, row)
        elif entity.entity_set == "currencyExchangeRates":
            if self._find("currencies", "code", row.get("currencyCode") or "") is None:
                raise self._relation_error(entity, "Currency Code", row.get("currencyCode") or "", "Currency")

    def _check_customer(self, entity: Entity, row: Row) -> None:
        # The API page validates currencyCode / currencyId itself (APIV2 - Customers: 'The "currencyCode"
        # does not match to a Currency.'); salespersonCode goes to the table field and its table relation.
        code = row.get("currencyCode") or ""
        currency_id = row.get("currencyId") or EMPTY_GUID
        if code:
            currency = self._find("currencies", "code", code)
            if currency is None:
                raise _dialog('The "currencyCode" does not match to a Currency.')
            row["currencyCode"], row["currencyId"] = currency["code"], currency["id"]
        elif currency_id != EMPTY_GUID:
            currency = self.store.table("bc", "currencies").get(currency_id)
            if currency is None:
                raise _dialog('The "currencyId" does not match to a Currency.')
            row["currencyCode"] = currency["code"]
        else:
            row["currencyId"] = EMPTY_GUID
        salesperson = row.get("salespersonCode") or ""
        if salesperson and self._find("salespeople", "code", salesperson) is None:
            raise self._relation_error(entity, "Salesperson Code", salesperson, "Salesperson/Purchaser")

    def _check_contact(self, entity: Entity, row: Row) -> None:
        company_number = row.get("companyNumber") or ""
        if row.get("type") == "Company":
            row["companyNumber"] = row["number"]
            row["companyName"] = row.get("displayName") or ""
            return
        if not company_number:
            row["companyName"] = ""
            return
        company = self._find("contacts", "number", company_number)
        if company is None or company.get("type") != "Company":
            raise self._relation_error(entity, "Company No.", company_number, "Contact")
        row["companyName"] = company["displayName"]

    def _next_number(self, table: str) -> str:
        prefix, step, width = _NUMBER_SERIES[table]
        pattern = re.compile(rf"^{prefix}(\d+)$")
        numbers = [
            int(match.group(1))
            for row in self.store.table("bc", table).values()
            if (match := pattern.match(str(row.get("number", ""))))
        ]
        following = (max(numbers) if numbers else 0) + step
        return f"{prefix}{following:0{width}d}"

    def _stamp(self, table: str, row: Row) -> Row:
        row["lastModifiedDateTime"] = business_central_timestamp(utc_now())
        row["@odata.etag"] = self.store.next_bc_etag()
        ordered = {"@odata.etag": row.pop("@odata.etag"), **row}
        self.store.put("bc", table, ordered["id"], ordered)
        return dict(ordered)


CONTACT_INFORMATION = "contactsInformation"
RELATIONS = "contactBusinessRelations"  # stored relations behind contactsInformation (not an API entity)


def _dialog(message: str) -> ApiError:
    """An AL `Error(...)` raised by an API page's validation."""
    return ApiError(400, "Application_DialogException", message)


def _default(entity: Entity, name: str) -> Any:
    field = entity.field(name)
    if field is None:
        return None
    if field.kind == "string":
        return field.choices[0] if field.choices else ""
    if field.kind == "decimal":
        return 0.0
    if field.kind == "bool":
        return False
    if field.kind == "guid":
        return EMPTY_GUID
    return None
