"""Dataverse's platform logic behind the Web API: lookups, row versions, owner and modified-by, checks."""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.api_error import ApiError
from bot.sandbox.schema import DV_ENTITIES, Entity
from bot.sandbox.store import DataStore, Row
from bot.sandbox.timestamps import dataverse_timestamp, utc_now
from bot.sandbox.values import ValueTypeError, coerce, is_guid

TYPE_PREFIX = "Microsoft.Dynamics.CRM"
_BIND_TARGET = re.compile(r"(?:^|/)(?P<set>[A-Za-z_]+)\((?P<id>[0-9a-fA-F-]{36})\)$")


def not_found(entity: Entity, record_id: str) -> ApiError:
    """Dataverse's answer when the row addressed by the request is missing (read, update, delete)."""
    return ApiError(404, "0x80040217", f"Entity '{entity.type_name}' With Id = {record_id} Does Not Exist")


def missing_reference(target: Entity, record_id: str) -> ApiError:
    """Dataverse's answer when a lookup (`…@odata.bind`) points at a missing row, naming its table."""
    return ApiError(404, "0x80040217", f"{target.type_name} With Id = {record_id} Does Not Exist")


def duplicate_key() -> ApiError:
    """Dataverse's answer to a create whose primary key is already taken (DuplicateRecord)."""
    return ApiError(412, "0x80040237", "Cannot insert duplicate key.")


def bad_request(message: str) -> ApiError:
    """Dataverse's answer for a request it cannot read."""
    return ApiError(400, "0x80060888", message)


class DataverseRecords:
    """Reads and writes Dataverse rows; `actor` is the systemuserid the change is recorded under."""

    def __init__(self, store: DataStore, base_currency_id: str) -> None:
        self.store = store
        self.base_currency_id = base_currency_id

    def entity(self, table: str) -> Entity:
        """The entity for an entity-set name; 404 as Dataverse answers an unknown segment."""
        entity = DV_ENTITIES.get(table)
        if entity is None:
            raise ApiError(404, "0x8006088a", f"Resource not found for the segment '{table}'.")
        return entity

    def rows(self, table: str) -> list[Row]:
        """All rows of a table (the stored dicts; callers copy before handing out)."""
        with self.store.lock:
            return list(self.store.table("dataverse", table).values())

    def find(self, table: str, record_id: str) -> Row | None:
        """One row by id, or None."""
        with self.store.lock:
            row = self.store.table("dataverse", table).get(record_id.lower())
            return dict(row) if row is not None else None

    def get(self, table: str, record_id: str) -> Row:
        """One row by id; 404 in Dataverse's words when missing."""
        entity = self.entity(table)
        row = self.find(table, record_id)
        if row is None:
            raise not_found(entity, record_id)
        return row

    def roles_of(self, user_id: str) -> list[Row]:
        """The security roles assigned to a user (`systemuserroles_association`)."""
        with self.store.lock:
            links = self.store.table("dataverse", "systemuserroles").values()
            roles = self.store.table("dataverse", "roles")
            return [
                dict(roles[link["roleid"]])
                for link in links
                if link["systemuserid"] == user_id and link["roleid"] in roles
            ]

    def create(self, table: str, body: dict[str, Any], actor: str) -> Row:
        """Insert a row (the client may choose its primary key, as Dataverse allows)."""
        entity = self.entity(table)
        with self.store.lock:
            self._require_writable(entity)
            values = self._validated(entity, body, creating=True)
            record_id = body.get(entity.key)
            if record_id is not None and (not isinstance(record_id, str) or not is_guid(record_id)):
                raise bad_request(
                    f"Cannot convert the literal '{record_id}' to the expected type 'Edm.Guid'."
                )
            record_id = (record_id or self.store.new_id()).lower()
            if record_id in self.store.table("dataverse", table):
                raise duplicate_key()
            return self._insert(entity, record_id, values, actor)

    def update(
        self,
        table: str,
        record_id: str,
        body: dict[str, Any],
        actor: str,
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> tuple[Row, bool]:
        """PATCH semantics: update, or upsert-create when the row is missing and If-Match is absent.

        Returns the row and whether it was created.
        """
        entity = self.entity(table)
        with self.store.lock:
            self._require_writable(entity)
            current = self.find(table, record_id)
            if current is None:
                if if_match is not None:
                    raise not_found(entity, record_id)
                values = self._validated(entity, body, creating=True)
                return self._insert(entity, record_id.lower(), values, actor), True
            if if_none_match is not None and if_none_match.strip() == "*":
                raise ApiError(412, "0x80040237", "A record with matching key values already exists.")
            self._check_version(current, if_match)
            values = self._validated(entity, body, creating=False)
            row = {**current, **values}
            self._derive(entity, row)
            return self._write(entity, row, actor), False

    def delete(self, table: str, record_id: str, *, if_match: str | None = None) -> None:
        """Delete a row (If-Match optional)."""
        entity = self.entity(table)
        with self.store.lock:
            self._require_writable(entity)
            current = self.get(table, record_id)
            self._check_version(current, if_match)
            self.store.remove("dataverse", table, current[entity.key])

    def _require_writable(self, entity: Entity) -> None:
        if not entity.writable:
            raise ApiError(
                405,
                "0x80060888",
                f"The requested operation is not supported on the '{entity.type_name}' entity.",
            )

    def _check_version(self, current: Row, if_match: str | None) -> None:
        if if_match is None or if_match.strip() == "*":
            return
        if if_match.strip() != current["@odata.etag"]:
            raise ApiError(
                412,
                "0x80060882",
                "The version of the existing record doesn't match the RowVersion property provided.",
            )

    def _insert(self, entity: Entity, record_id: str, values: dict[str, Any], actor: str) -> Row:
        row: Row = dict.fromkeys(entity.field_names)
        row.update({"statecode": 0} if entity.field("statecode") else {})
        if entity.entity_set == "accounts":
            row.update({"statuscode": 1, "customertypecode": 3})
        if entity.lookup("ownerid"):
            row["_ownerid_value"] = actor
        if entity.lookup("transactioncurrencyid"):
            row["_transactioncurrencyid_value"] = self.base_currency_id
        row.update(values)
        row[entity.key] = record_id
        self._check_create_rules(entity, row)
        self._derive(entity, row)
        moment = dataverse_timestamp(utc_now())
        row["createdon"], row["_createdby_value"] = moment, actor
        return self._write(entity, row, actor)

    def _write(self, entity: Entity, row: Row, actor: str) -> Row:
        version = self.store.next_dv_version()
        row.pop("@odata.etag", None)
        row["modifiedon"] = dataverse_timestamp(utc_now())
        row["_modifiedby_value"] = actor
        row["versionnumber"] = version
        stored = {"@odata.etag": f'W/"{version}"', **row}
        self.store.put("dataverse", entity.entity_set, row[entity.key], stored)
        return dict(stored)

    def _derive(self, entity: Entity, row: Row) -> None:
        if entity.entity_set == "contacts":
            row["fullname"] = " ".join(part for part in (row.get("firstname"), row.get("lastname")) if part)

    def _check_create_rules(self, entity: Entity, row: Row) -> None:
        if entity.entity_set != "transactioncurrencies":
            return
        if not row.get("isocurrencycode"):
            raise ApiError(400, "0x80040203", "Currency code is required. Specify an ISO currency code.")
        code = str(row["isocurrencycode"]).casefold()
        if any(
            str(other.get("isocurrencycode", "")).casefold() == code
            for other in self.store.table("dataverse", entity.entity_set).values()
        ):
            raise ApiError(412, "0x80040237", "A record with matching key values already exists.")

    def _validated(self, entity: Entity, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in body.items():
            if name.endswith("@odata.bind"):
                lookup_name = name[: -len("@odata.bind")]
                values.update(self._bind(entity, lookup_name, value))
                continue
            if name.startswith("@odata.") or name == entity.key:
                continue
            field = entity.field(name)
            if field is None or name.startswith("_"):
                raise bad_request(
                    f"The property '{name}' does not exist on type "
                    f"'{TYPE_PREFIX}.{entity.type_name}'. Make sure "
                    "to only use property names that are defined by the type."
                )
            if field.read_only:
                continue
            try:
                coerced = coerce(field, value)
            except ValueTypeError as error:
                raise bad_request(str(error)) from error
            if field.kind == "string" and coerced is not None and field.max_length is not None:
                if len(coerced) > field.max_length:
                    raise ApiError(
                        400,
                        "0x80044331",
                        f"A validation error occurred. The length of the '{name}' attribute of the "
                        f"'{entity.type_name}' entity exceeded the maximum allowed length "
                        f"of '{field.max_length}'.",
                    )
            values[name] = coerced
        if entity.entity_set == "transactioncurrencies":
            self._check_exchange_rate(values, creating=creating)
        return values

    def _check_exchange_rate(self, values: dict[str, Any], *, creating: bool) -> None:
        if "exchangerate" not in values and not creating:
            return
        rate = values.get("exchangerate")
        if rate is None:
            raise ApiError(
                400,
                "0x80040203",
                "Exchange rate is required. Specify a value greater than zero for exchangerate.",
            )
        if rate <= 0:
            raise ApiError(
                400,
                "0x80040203",
                f"The exchange rate {rate} is not valid. The exchange rate must be greater than zero.",
            )

    def _bind(self, entity: Entity, lookup_name: str, value: Any) -> dict[str, Any]:
        lookup = entity.lookup(lookup_name)
        if lookup is None:
            raise bad_request(
                f"An undeclared property '{lookup_name}' which only has property "
                "annotations in the payload but "
                "no property value was found in the payload. In OData, only "
                "declared navigation properties and "
                "declared named streams can be represented as properties without values."
            )
        if value is None:
            return {lookup.value_field: None}
        match = _BIND_TARGET.search(str(value))
        if match is None or match.group("set") not in lookup.targets:
            raise bad_request(f"Invalid value '{value}' for the navigation property '{lookup_name}'.")
        target_entity = DV_ENTITIES[match.group("set")]
        target_id = match.group("id").lower()
        if target_id not in self.store.table("dataverse", target_entity.entity_set):
            raise missing_reference(target_entity, target_id)
        return {lookup.value_field: target_id}
