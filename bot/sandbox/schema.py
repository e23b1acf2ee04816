"""The entities each stand-in API serves: their fields, types, keys and (for Dataverse) lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["guid", "string", "decimal", "int", "bool", "datetime", "date"]

EDM_TYPES: dict[str, str] = {
    "guid": "Edm.Guid",
    "string": "Edm.String",
    "decimal": "Edm.Decimal",
    "int": "Edm.Int32",
    "bool": "Edm.Boolean",
    "datetime": "Edm.DateTimeOffset",
    "date": "Edm.Date",
}


@dataclass(frozen=True)
class Field:
    """One property of an entity."""

    name: str
    kind: Kind = "string"
    max_length: int | None = None
    read_only: bool = False
    choices: tuple[str, ...] = ()
    caption: str = ""


@dataclass(frozen=True)
class Lookup:
    """A Dataverse single-valued navigation property set with `<name>@odata.bind`."""

    name: str
    value_field: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Entity:
    """An entity set as the API exposes it."""

    entity_set: str
    type_name: str
    key: str
    fields: tuple[Field, ...]
    default_order: tuple[str, ...]
    caption: str = ""
    number_field: str | None = None
    lookups: tuple[Lookup, ...] = ()
    object_type_code: int = 0
    writable: bool = True
    privilege_entity: str = ""  # the schema name privileges use when it differs ("User" for systemuser)
    _index: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({f.name: f for f in self.fields})

    def field(self, name: str) -> Field | None:
        """The field with this name, or None."""
        return self._index.get(name)

    def lookup(self, name: str) -> Lookup | None:
        """The lookup (navigation property) with this name, or None."""
        return next((lookup for lookup in self.lookups if lookup.name == name), None)

    def privilege(self, action: str) -> str:
        """Dataverse's name of the privilege for an action on this entity: "Create" -> "prvCreateAccount"."""
        entity = self.privilege_entity or self.type_name[:1].upper() + self.type_name[1:]
        return f"prv{action}{entity}"

    @property
    def field_names(self) -> list[str]:
        """Names of every field, in the API's order."""
        return [f.name for f in self.fields]


def _s(name: str, max_length: int, caption: str = "") -> Field:
    return Field(name, "string", max_length=max_length, caption=caption)


_BC_MODIFIED = Field("lastModifiedDateTime", "datetime", read_only=True)
_BC_ID = Field("id", "guid", read_only=True)

BC_ENTITIES: dict[str, Entity] = {
    entity.entity_set: entity
    for entity in (
        Entity(
            "customers",
            "customer",
            "id",
            (
                _BC_ID,
                _s("number", 20, "No."),
                _s("displayName", 100, "Name"),
                Field("type", choices=("Company", "Person")),
                _s("addressLine1", 100),
                _s("addressLine2", 50),
                _s("city", 30),
                _s("state", 30),
                _s("country", 10),
                _s("postalCode", 20),
                _s("phoneNumber", 30),
                _s("email", 80),
                _s("website", 80),
                _s("salespersonCode", 20, "Salesperson Code"),
                Field("creditLimit", "decimal"),
                Field("currencyId", "guid"),
                _s("currencyCode", 10, "Currency Code"),
                Field("blocked", choices=(" ", "Ship", "Invoice", "All")),
                _BC_MODIFIED,
            ),
            ("number",),
            caption="Customer",
            number_field="number",
        ),
        Entity(
            "contacts",
            "contact",
            "id",
            (
                _BC_ID,
                _s("number", 20, "No."),
                Field("type", choices=("Company", "Person")),
                _s("displayName", 100, "Name"),
                _s("companyNumber", 20, "Company No."),
                Field("companyName", max_length=100, read_only=True),
                _s("addressLine1", 100),
                _s("city", 30),
                _s("postalCode", 20),
                _s("country", 10),
                _s("phoneNumber", 30),
                _s("mobilePhoneNumber", 30),
                _s("email", 80),
                _s("website", 80),
                _BC_MODIFIED,
            ),
            ("number",),
            caption="Contact",
            number_field="number",
        ),
        Entity(
            "currencies",
            "currency",
            "id",
            (_BC_ID, _s("code", 10, "Code"), _s("displayName", 30), _s("symbol", 10), _BC_MODIFIED),
            ("code",),
            caption="Currency",
            number_field="code",
        ),
        Entity(
            "currencyExchangeRates",
            "currencyExchangeRate",
            "id",
            (
                _BC_ID,
                _s("currencyCode", 10, "Currency Code"),
                Field("startingDate", "date"),
                Field("exchangeAmount", "decimal"),
                Field("relationalExchangeAmount", "decimal"),
                _BC_MODIFIED,
            ),
            ("currencyCode", "startingDate"),
            caption="Currency Exchange Rate",
        ),
        Entity(
            "salespeople",
            "salesperson",
            "id",
            (
                _BC_ID,
                _s("code", 20, "Code"),
                _s("displayName", 50),
                _s("email", 80),
                _s("phoneNumber", 30),
                _BC_MODIFIED,
            ),
            ("code",),
            caption="Salesperson/Purchaser",
            number_field="code",
        ),
        Entity(
            "items",
            "item",
            "id",
            (
                _BC_ID,
                _s("number", 20, "No."),
                _s("displayName", 100),
                Field("type", choices=("Inventory", "Service", "Non-Inventory")),
                Field("unitPrice", "decimal"),
                _s("baseUnitOfMeasureCode", 10),
                Field("blocked", "bool"),
                _BC_MODIFIED,
            ),
            ("number",),
            caption="Item",
            number_field="number",
        ),
    )
}

# Contact business relations (API v2.0 `contactInformation`, read-only): which company contact belongs to
# which customer, and the persons of that company. Computed from the stored relations, never written.
BC_CONTACT_INFORMATION = Entity(
    "contactsInformation",
    "contactInformation",
    "contactId",
    (
        Field("contactId", "guid", read_only=True),
        Field("contactNumber", read_only=True),
        Field("contactName", read_only=True),
        Field("contactType", choices=("Company", "Person"), read_only=True),
        Field("relatedId", "guid", read_only=True),
        Field("relatedType", choices=(" ", "Customer", "Vendor", "Bank Account", "Employee"), read_only=True),
    ),
    ("contactNumber",),
    caption="Contact Information",
    writable=False,
)
BC_ENTITIES[BC_CONTACT_INFORMATION.entity_set] = BC_CONTACT_INFORMATION

BC_COMPANY = Entity(
    "companies",
    "company",
    "id",
    (
        _BC_ID,
        Field("systemVersion", read_only=True),
        Field("name", read_only=True),
        Field("displayName", read_only=True),
        Field("businessProfileId", read_only=True),
        Field("systemCreatedAt", "datetime", read_only=True),
        Field("systemModifiedAt", "datetime", read_only=True),
    ),
    ("name",),
    caption="Company",
    writable=False,
)


def _dv_modified() -> tuple[Field, ...]:
    return (
        Field("createdon", "datetime", read_only=True),
        Field("modifiedon", "datetime", read_only=True),
        Field("_createdby_value", "guid", read_only=True),
        Field("_modifiedby_value", "guid", read_only=True),
        Field("versionnumber", "int", read_only=True),
    )


def _address() -> tuple[Field, ...]:
    return (
        _s("address1_line1", 250),
        _s("address1_line2", 250),
        _s("address1_city", 80),
        _s("address1_postalcode", 20),
        _s("address1_stateorprovince", 50),
        _s("address1_country", 80),
    )


_CURRENCY_LOOKUP = Lookup("transactioncurrencyid", "_transactioncurrencyid_value", ("transactioncurrencies",))
_OWNER_LOOKUP = Lookup("ownerid", "_ownerid_value", ("systemusers",))

DV_ENTITIES: dict[str, Entity] = {
    entity.entity_set: entity
    for entity in (
        Entity(
            "accounts",
            "account",
            "accountid",
            (
                Field("accountid", "guid", read_only=True),
                _s("name", 160),
                _s("accountnumber", 20),
                _s("emailaddress1", 100),
                _s("telephone1", 50),
                _s("fax", 50),
                _s("websiteurl", 200),
                *_address(),
                Field("creditlimit", "decimal"),
                Field("customertypecode", "int"),
                Field("statecode", "int"),
                Field("statuscode", "int"),
                Field("_transactioncurrencyid_value", "guid", read_only=True),
                Field("_ownerid_value", "guid", read_only=True),
                Field("_primarycontactid_value", "guid", read_only=True),
                *_dv_modified(),
            ),
            ("accountid",),
            lookups=(
                _CURRENCY_LOOKUP,
                _OWNER_LOOKUP,
                Lookup("primarycontactid", "_primarycontactid_value", ("contacts",)),
            ),
            object_type_code=1,
        ),
        Entity(
            "contacts",
            "contact",
            "contactid",
            (
                Field("contactid", "guid", read_only=True),
                _s("firstname", 50),
                _s("lastname", 50),
                Field("fullname", max_length=160, read_only=True),
                _s("emailaddress1", 100),
                _s("telephone1", 50),
                _s("mobilephone", 50),
                _s("jobtitle", 100),
                *_address(),
                Field("statecode", "int"),
                Field("_parentcustomerid_value", "guid", read_only=True),
                Field("_transactioncurrencyid_value", "guid", read_only=True),
                Field("_ownerid_value", "guid", read_only=True),
                *_dv_modified(),
            ),
            ("contactid",),
            lookups=(
                Lookup("parentcustomerid_account", "_parentcustomerid_value", ("accounts",)),
                Lookup("parentcustomerid_contact", "_parentcustomerid_value", ("contacts",)),
                _CURRENCY_LOOKUP,
                _OWNER_LOOKUP,
            ),
            object_type_code=2,
        ),
        Entity(
            "transactioncurrencies",
            "transactioncurrency",
            "transactioncurrencyid",
            (
                Field("transactioncurrencyid", "guid", read_only=True),
                _s("isocurrencycode", 5),
                _s("currencyname", 100),
                _s("currencysymbol", 10),
                Field("exchangerate", "decimal"),
                Field("currencyprecision", "int"),
                Field("statecode", "int"),
                *_dv_modified(),
            ),
            ("transactioncurrencyid",),
            object_type_code=9105,
            privilege_entity="TransactionCurrency",
        ),
        Entity(
            "systemusers",
            "systemuser",
            "systemuserid",
            (
                Field("systemuserid", "guid", read_only=True),
                _s("fullname", 200),
                _s("firstname", 64),
                _s("lastname", 64),
                _s("internalemailaddress", 100),
                _s("mobilephone", 64),
                Field("isdisabled", "bool"),
                Field("islicensed", "bool"),
                Field("accessmode", "int"),
                Field("applicationid", "guid"),
                Field("azureactivedirectoryobjectid", "guid"),
                Field("_businessunitid_value", "guid", read_only=True),
                *_dv_modified(),
            ),
            ("systemuserid",),
            object_type_code=8,
            writable=False,
            privilege_entity="User",
        ),
        Entity(
            "products",
            "product",
            "productid",
            (
                Field("productid", "guid", read_only=True),
                _s("productnumber", 100),
                _s("name", 100),
                Field("price", "decimal"),
                Field("producttypecode", "int"),
                Field("statecode", "int"),
                Field("_transactioncurrencyid_value", "guid", read_only=True),
                *_dv_modified(),
            ),
            ("productid",),
            lookups=(_CURRENCY_LOOKUP,),
            object_type_code=1024,
        ),
        Entity(
            "roles",
            "role",
            "roleid",
            (
                Field("roleid", "guid", read_only=True),
                _s("name", 100),
                Field("roletemplateid", "guid", read_only=True),
                Field("_businessunitid_value", "guid", read_only=True),
                *_dv_modified(),
            ),
            ("name",),
            object_type_code=1036,
            writable=False,
        ),
    )
}

DV_BY_LOGICAL_NAME: dict[str, Entity] = {entity.type_name: entity for entity in DV_ENTITIES.values()}


# Choices of Dataverse option sets (value -> label), served in the metadata's OptionSet.
RELATIONSHIP_TYPES: dict[int, str] = {
    1: "Competitor",
    2: "Consultant",
    3: "Customer",
    4: "Investor",
    5: "Partner",
    6: "Influencer",
    7: "Press",
    8: "Prospect",
    9: "Reseller",
    10: "Supplier",
    11: "Vendor",
    12: "Other",
}
DV_OPTION_SETS: dict[tuple[str, str], dict[int, str]] = {
    ("account", "customertypecode"): RELATIONSHIP_TYPES,
    ("account", "statecode"): {0: "Active", 1: "Inactive"},
    ("account", "statuscode"): {1: "Active", 2: "Inactive"},
    ("contact", "statecode"): {0: "Active", 1: "Inactive"},
    ("transactioncurrency", "statecode"): {0: "Active", 1: "Inactive"},
    ("product", "statecode"): {0: "Active", 1: "Retired", 2: "Draft", 3: "Under Revision"},
    ("product", "producttypecode"): {
        1: "Sales Inventory",
        2: "Miscellaneous Charges",
        3: "Services",
        4: "Flat Fees",
    },
    ("systemuser", "accessmode"): {
        0: "Read-Write",
        1: "Administrative",
        2: "Read",
        3: "Support User",
        4: "Non-interactive",
        5: "Delegated Admin",
    },
}
