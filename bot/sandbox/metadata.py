"""Table metadata derived from schema.py: Dataverse `EntityDefinitions` (with `Attributes`) and the CSDL
`$metadata` documents of both APIs, so clients that read metadata first see the tables the sandbox serves."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

from bot.sandbox.schema import (
    BC_COMPANY,
    BC_ENTITIES,
    DV_ENTITIES,
    DV_OPTION_SETS,
    EDM_TYPES,
    Entity,
    Field,
    Lookup,
)

DV_NAMESPACE = "Microsoft.Dynamics.CRM"
BC_NAMESPACE = "Microsoft.NAV"
_EDM = "http://docs.oasis-open.org/odata/ns/edm"
_EDMX = "http://docs.oasis-open.org/odata/ns/edmx"

_PRIMARY_NAME = {
    "accounts": "name",
    "contacts": "fullname",
    "transactioncurrencies": "currencyname",
    "systemusers": "fullname",
    "products": "name",
    "roles": "name",
}
_SCHEMA_NAME = {
    "account": "Account",
    "contact": "Contact",
    "transactioncurrency": "TransactionCurrency",
    "systemuser": "SystemUser",
    "product": "Product",
    "role": "Role",
}
_DISPLAY = {
    "account": ("Account", "Accounts"),
    "contact": ("Contact", "Contacts"),
    "transactioncurrency": ("Currency", "Currencies"),
    "systemuser": ("User", "Users"),
    "product": ("Product", "Products"),
    "role": ("Security Role", "Security Roles"),
}
_OWNERSHIP = {
    "account": "UserOwned",
    "contact": "UserOwned",
    "transactioncurrency": "OrganizationOwned",
    "systemuser": "BusinessOwned",
    "product": "OrganizationOwned",
    "role": "BusinessOwned",
}
_SYSTEM_LOOKUPS = {
    "_createdby_value": ("createdby", "Lookup", ("systemuser",)),
    "_modifiedby_value": ("modifiedby", "Lookup", ("systemuser",)),
    "_businessunitid_value": ("businessunitid", "Lookup", ("businessunit",)),
}
_INT_TYPES = {
    "statecode": "State",
    "statuscode": "Status",
    "customertypecode": "Picklist",
    "producttypecode": "Picklist",
    "accessmode": "Picklist",
    "versionnumber": "BigInt",
}
_MONEY = {"creditlimit", "price"}
_TYPE_NAMES = {
    "String": "StringType",
    "Uniqueidentifier": "UniqueidentifierType",
    "Lookup": "LookupType",
    "Owner": "OwnerType",
    "Customer": "CustomerType",
    "Decimal": "DecimalType",
    "Money": "MoneyType",
    "Integer": "IntegerType",
    "BigInt": "BigIntType",
    "Boolean": "BooleanType",
    "DateTime": "DateTimeType",
    "Picklist": "PicklistType",
    "State": "StateType",
    "Status": "StatusType",
}
_METADATA_CLASS = {
    "String": "StringAttributeMetadata",
    "Uniqueidentifier": "UniqueIdentifierAttributeMetadata",
    "Lookup": "LookupAttributeMetadata",
    "Owner": "LookupAttributeMetadata",
    "Customer": "LookupAttributeMetadata",
    "Decimal": "DecimalAttributeMetadata",
    "Money": "MoneyAttributeMetadata",
    "Integer": "IntegerAttributeMetadata",
    "BigInt": "BigIntAttributeMetadata",
    "Boolean": "BooleanAttributeMetadata",
    "DateTime": "DateTimeAttributeMetadata",
    "Picklist": "PicklistAttributeMetadata",
    "State": "StateAttributeMetadata",
    "Status": "StatusAttributeMetadata",
}

METADATA_CLASSES = frozenset(_METADATA_CLASS.values())

# The shapes `EntityDefinitions` and `Attributes` are queried with ($select / $filter use these fields).
ENTITY_METADATA = Entity(
    "EntityDefinitions",
    "EntityMetadata",
    "MetadataId",
    (
        Field("MetadataId", "guid", read_only=True),
        Field("LogicalName"),
        Field("SchemaName"),
        Field("EntitySetName"),
        Field("LogicalCollectionName"),
        Field("PrimaryIdAttribute"),
        Field("PrimaryNameAttribute"),
        Field("ObjectTypeCode", "int"),
        Field("OwnershipType"),
        Field("IsCustomEntity", "bool"),
        Field("IsActivity", "bool"),
        Field("IsIntersect", "bool"),
        Field("IsManaged", "bool"),
        Field("TableType"),
        Field("DisplayName"),
        Field("DisplayCollectionName"),
    ),
    ("LogicalName",),
)
ATTRIBUTE_METADATA = Entity(
    "Attributes",
    "AttributeMetadata",
    "MetadataId",
    (
        Field("MetadataId", "guid", read_only=True),
        Field("LogicalName"),
        Field("SchemaName"),
        Field("EntityLogicalName"),
        Field("AttributeType"),
        Field("AttributeTypeName"),
        Field("IsPrimaryId", "bool"),
        Field("IsPrimaryName", "bool"),
        Field("IsValidForCreate", "bool"),
        Field("IsValidForUpdate", "bool"),
        Field("IsValidForRead", "bool"),
        Field("IsCustomAttribute", "bool"),
        Field("AttributeOf"),
        Field("MaxLength", "int"),
        Field("Targets"),
        Field("DisplayName"),
    ),
    ("LogicalName",),
)


def _id(kind: str, *names: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-metadata:{kind}:{':'.join(names)}"))


def _label(text: str) -> dict[str, Any]:
    label = {"Label": text, "LanguageCode": 1033, "IsManaged": True, "MetadataId": _id("label", text)}
    return {"LocalizedLabels": [label], "UserLocalizedLabel": label}


def entity_definitions() -> list[dict[str, Any]]:
    """One `EntityMetadata` row per Dataverse table the sandbox serves."""
    rows = []
    for entity in DV_ENTITIES.values():
        logical = entity.type_name
        singular, plural = _DISPLAY.get(logical, (logical, entity.entity_set))
        rows.append(
            {
                "@odata.type": f"#{DV_NAMESPACE}.EntityMetadata",
                "MetadataId": _id("entity", logical),
                "LogicalName": logical,
                "SchemaName": _SCHEMA_NAME.get(logical, logical),
                "EntitySetName": entity.entity_set,
                "LogicalCollectionName": entity.entity_set,
                "PrimaryIdAttribute": entity.key,
                "PrimaryNameAttribute": _PRIMARY_NAME.get(entity.entity_set),
                "ObjectTypeCode": entity.object_type_code,
                "OwnershipType": _OWNERSHIP.get(logical, "UserOwned"),
                "IsCustomEntity": False,
                "IsActivity": False,
                "IsIntersect": False,
                "IsManaged": True,
                "TableType": "Standard",
                "DisplayName": _label(singular),
                "DisplayCollectionName": _label(plural),
            }
        )
    return rows


def _lookup_targets(entity: Entity, value_field: str) -> tuple[str, str, list[str]] | None:
    """(logical name, attribute type, target tables) of a `_x_value` field."""
    lookups: list[Lookup] = [lookup for lookup in entity.lookups if lookup.value_field == value_field]
    if lookups:
        logical = value_field[1 : -len("_value")]
        targets = [DV_ENTITIES[target].type_name for lookup in lookups for target in lookup.targets]
        kind = "Owner" if logical == "ownerid" else "Customer" if len(targets) > 1 else "Lookup"
        return logical, kind, targets
    if value_field in _SYSTEM_LOOKUPS:
        logical, kind, system_targets = _SYSTEM_LOOKUPS[value_field]
        return logical, kind, list(system_targets)
    if value_field.startswith("_") and value_field.endswith("_value"):
        return value_field[1 : -len("_value")], "Lookup", []
    return None


def _attribute_type(entity: Entity, field: Field) -> str:
    if field.name == entity.key:
        return "Uniqueidentifier"
    if field.kind == "string":
        return "String"
    if field.kind == "int":
        return _INT_TYPES.get(field.name, "Integer")
    if field.kind == "decimal":
        return "Money" if field.name in _MONEY else "Decimal"
    if field.kind == "bool":
        return "Boolean"
    if field.kind == "datetime":
        return "DateTime"
    return "Uniqueidentifier"


def attributes(entity: Entity) -> list[dict[str, Any]]:
    """The `AttributeMetadata` rows of one Dataverse table (lookups under their logical names)."""
    rows = []
    primary_name = _PRIMARY_NAME.get(entity.entity_set)
    for field in entity.fields:
        targets: list[str] = []
        lookup = _lookup_targets(entity, field.name)
        if lookup is not None:
            logical, kind, targets = lookup
        else:
            logical, kind = field.name, _attribute_type(entity, field)
        system = (
            field.name in ("createdon", "modifiedon", "versionnumber")
            or lookup is not None
            and (field.name in _SYSTEM_LOOKUPS)
        )
        writable = not field.read_only or (lookup is not None and not system)
        row: dict[str, Any] = {
            "@odata.type": f"#{DV_NAMESPACE}.{_METADATA_CLASS[kind]}",
            "MetadataId": _id("attribute", entity.type_name, logical),
            "LogicalName": logical,
            "SchemaName": logical,
            "EntityLogicalName": entity.type_name,
            "AttributeType": kind,
            "AttributeTypeName": {"Value": _TYPE_NAMES[kind]},
            "IsPrimaryId": field.name == entity.key,
            "IsPrimaryName": field.name == primary_name,
            "IsValidForCreate": writable or field.name == entity.key,
            "IsValidForUpdate": writable and field.name != entity.key,
            "IsValidForRead": True,
            "IsCustomAttribute": False,
            "AttributeOf": None,
            "DisplayName": _label(field.caption or logical),
        }
        if kind == "String":
            row["MaxLength"] = field.max_length
        if targets:
            row["Targets"] = targets
        rows.append(row)
    return rows


def option_set(table: str, attribute: str, kind: str) -> dict[str, Any] | None:
    """The OptionSet of a Picklist, State or Status attribute (what `$expand=OptionSet` adds)."""
    choices = DV_OPTION_SETS.get((table, attribute))
    if choices is None or kind not in ("Picklist", "State", "Status"):
        return None
    return {
        "MetadataId": _id("optionset", table, attribute),
        "Name": f"{table}_{attribute}",
        "IsGlobal": False,
        "OptionSetType": kind,
        "Options": [
            {"Value": value, "Label": _label(label), "Description": _label(label)}
            for value, label in choices.items()
        ],
    }


def _schema(namespace: str, alias: str) -> tuple[ET.Element, ET.Element]:
    root = ET.Element(f"{{{_EDMX}}}Edmx", {"Version": "4.0"})
    services = ET.SubElement(root, f"{{{_EDMX}}}DataServices")
    schema = ET.SubElement(services, f"{{{_EDM}}}Schema", {"Namespace": namespace, "Alias": alias})
    return root, schema


def _entity_type(schema: ET.Element, entity: Entity) -> ET.Element:
    entity_type = ET.SubElement(schema, f"{{{_EDM}}}EntityType", {"Name": entity.type_name})
    key = ET.SubElement(entity_type, f"{{{_EDM}}}Key")
    ET.SubElement(key, f"{{{_EDM}}}PropertyRef", {"Name": entity.key})
    for field in entity.fields:
        attributes = {"Name": field.name, "Type": EDM_TYPES[field.kind]}
        if field.name == entity.key:
            attributes["Nullable"] = "false"
        if field.kind == "string" and field.max_length is not None:
            attributes["MaxLength"] = str(field.max_length)
        if field.kind == "decimal":
            attributes["Scale"] = "Variable"
        ET.SubElement(entity_type, f"{{{_EDM}}}Property", attributes)
    return entity_type


def _document(root: ET.Element) -> bytes:
    ET.register_namespace("edmx", _EDMX)
    ET.register_namespace("", _EDM)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>' + body


def dataverse_csdl() -> bytes:
    """The Dataverse `$metadata` document: entity types, lookups as navigation properties, entity sets."""
    root, schema = _schema(DV_NAMESPACE, "mscrm")
    for entity in DV_ENTITIES.values():
        entity_type = _entity_type(schema, entity)
        for lookup in entity.lookups:
            for target in lookup.targets:
                target_entity = DV_ENTITIES[target]
                navigation = ET.SubElement(
                    entity_type,
                    f"{{{_EDM}}}NavigationProperty",
                    {"Name": lookup.name, "Type": f"mscrm.{target_entity.type_name}"},
                )
                ET.SubElement(
                    navigation,
                    f"{{{_EDM}}}ReferentialConstraint",
                    {"Property": lookup.value_field, "ReferencedProperty": target_entity.key},
                )
    who_am_i = ET.SubElement(schema, f"{{{_EDM}}}ComplexType", {"Name": "WhoAmIResponse"})
    for name in ("BusinessUnitId", "UserId", "OrganizationId"):
        ET.SubElement(
            who_am_i, f"{{{_EDM}}}Property", {"Name": name, "Type": "Edm.Guid", "Nullable": "false"}
        )
    function = ET.SubElement(schema, f"{{{_EDM}}}Function", {"Name": "WhoAmI"})
    ET.SubElement(function, f"{{{_EDM}}}ReturnType", {"Type": "mscrm.WhoAmIResponse", "Nullable": "false"})
    container = ET.SubElement(schema, f"{{{_EDM}}}EntityContainer", {"Name": "System"})
    for entity in DV_ENTITIES.values():
        entity_set = ET.SubElement(
            container,
            f"{{{_EDM}}}EntitySet",
            {"Name": entity.entity_set, "EntityType": f"{DV_NAMESPACE}.{entity.type_name}"},
        )
        for lookup in entity.lookups:
            for target in lookup.targets:
                ET.SubElement(
                    entity_set,
                    f"{{{_EDM}}}NavigationPropertyBinding",
                    {"Path": lookup.name, "Target": target},
                )
    ET.SubElement(container, f"{{{_EDM}}}FunctionImport", {"Name": "WhoAmI", "Function": "mscrm.WhoAmI"})
    return _document(root)


def business_central_csdl() -> bytes:
    """Business Central's `$metadata`: the company and the entity sets it contains."""
    root, schema = _schema(BC_NAMESPACE, "NAV")
    for entity in BC_ENTITIES.values():
        _entity_type(schema, entity)
    company = _entity_type(schema, BC_COMPANY)
    for entity in BC_ENTITIES.values():
        ET.SubElement(
            company,
            f"{{{_EDM}}}NavigationProperty",
            {
                "Name": entity.entity_set,
                "Type": f"Collection({BC_NAMESPACE}.{entity.type_name})",
                "ContainsTarget": "true",
            },
        )
    container = ET.SubElement(schema, f"{{{_EDM}}}EntityContainer", {"Name": "default"})
    ET.SubElement(
        container, f"{{{_EDM}}}EntitySet", {"Name": "companies", "EntityType": f"{BC_NAMESPACE}.company"}
    )
    return _document(root)
