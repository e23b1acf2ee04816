"""The default table and field mappings (Business Central's CDS/CRM setup defaults) and their seeding."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.sync import transforms
from bot.sync.fieldmap import FieldMap, Lookup, MappingSpec, MatchField, TableSide, pair
from storage.mappings import mapping_names
from storage.models import Direction, Mapping, System

BC = System.BUSINESS_CENTRAL
DV = System.DATAVERSE
BOTH = Direction.BIDIRECTIONAL
TO_DV = Direction.TO_DATAVERSE
FROM_DV = Direction.FROM_DATAVERSE

ACCOUNT_TYPE_CUSTOMER = 3
PRODUCT_TYPE_SALES_INVENTORY = 1
CURRENCY_PRECISION = 2


def _bc_person_contact(fields: dict[str, Any]) -> bool:
    # Business Central syncs only contacts of type Person that belong to a company (default table filter).
    return fields.get("type") == "Person" and bool(fields.get("companyNumber"))


def _dv_contact_with_parent(fields: dict[str, Any]) -> bool:
    # CONTACT's integration table filter: active contacts whose parent customer is an account.
    kind = fields.get("_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname")
    return bool(fields.get("_parentcustomerid_value")) and kind in (None, "account") and _active(fields)


def _active(fields: dict[str, Any]) -> bool:
    return fields.get("statecode") in (None, 0)


def _dv_customer_account(fields: dict[str, Any]) -> bool:
    # CUSTOMER's integration table filter: active accounts of relationship type Customer (Vendor,
    # Competitor, Partner… accounts are not customers).
    kind = fields.get("customertypecode")
    return _active(fields) and kind in (None, ACCOUNT_TYPE_CUSTOMER)


def _dv_interactive_user(fields: dict[str, Any]) -> bool:
    # Disabled users and application users (the integration user among them) are not salespeople.
    return not fields.get("isdisabled") and not fields.get("applicationid")


_ADDRESS = (
    pair("addressLine1", "address1_line1"),
    pair("city", "address1_city"),
    pair("postalCode", "address1_postalcode"),
    pair("country", "address1_country"),
)

SALESPEOPLE = MappingSpec(
    name="SALESPEOPLE",
    bc=TableSide(BC, "salespeople", "salesperson", "code", "displayName", "Salesperson"),
    dataverse=TableSide(
        DV,
        "systemusers",
        "systemuser",
        "internalemailaddress",
        "fullname",
        "User",
        _dv_interactive_user,
        "Status = Enabled and not an application user",
    ),
    direction=FROM_DV,
    fields=(
        pair("displayName", "fullname", FROM_DV),
        pair("email", "internalemailaddress", FROM_DV),
        pair("phoneNumber", "mobilephone", FROM_DV),
    ),
    match=((MatchField("email", "internalemailaddress"),),),
)

CURRENCY = MappingSpec(
    name="CURRENCY",
    bc=TableSide(BC, "currencies", "currency", "code", "displayName", "Currency"),
    dataverse=TableSide(
        DV, "transactioncurrencies", "transactioncurrency", "isocurrencycode", "currencyname", "Currency"
    ),
    direction=TO_DV,
    fields=(
        pair("code", "isocurrencycode", TO_DV),
        pair("symbol", "currencysymbol", TO_DV),
        pair("displayName", "currencyname", TO_DV),
    ),
    match=((MatchField("code", "isocurrencycode"),),),
    dataverse_constants={"currencyprecision": CURRENCY_PRECISION},
    needs_exchange_rate=True,
)

CUSTOMER = MappingSpec(
    name="CUSTOMER",
    bc=TableSide(BC, "customers", "customer", "number", "displayName", "Customer"),
    dataverse=TableSide(
        DV,
        "accounts",
        "account",
        "accountnumber",
        "name",
        "Account",
        _dv_customer_account,
        "Status = Active and Relationship Type = Customer",
    ),
    direction=BOTH,
    fields=(
        pair("number", "accountnumber", TO_DV),
        pair("displayName", "name"),
        *_ADDRESS,
        pair("addressLine2", "address1_line2"),
        pair("state", "address1_stateorprovince"),
        pair("email", "emailaddress1"),
        pair("website", "websiteurl"),
        pair("phoneNumber", "telephone1"),
        pair("creditLimit", "creditlimit", TO_DV),
        FieldMap(
            ("blocked",),
            ("statecode",),
            BOTH,
            transforms.blocked_to_statecode,
            transforms.statecode_to_blocked,
        ),
    ),
    lookups=(
        Lookup("currencyCode", "transactioncurrencyid", "CURRENCY", BOTH, caption="Currency Code"),
        Lookup("salespersonCode", "ownerid", "SALESPEOPLE", TO_DV, caption="Salesperson Code"),
    ),
    match=((MatchField("number", "accountnumber"),), (MatchField("displayName", "name"),)),
    dependencies=("CURRENCY", "SALESPEOPLE"),
    dataverse_constants={"customertypecode": ACCOUNT_TYPE_CUSTOMER},
)

CONTACT = MappingSpec(
    name="CONTACT",
    bc=TableSide(
        BC,
        "contacts",
        "contact",
        "number",
        "displayName",
        "Contact",
        _bc_person_contact,
        "Type = Person and Company No. not blank",
    ),
    dataverse=TableSide(
        DV,
        "contacts",
        "contact",
        "emailaddress1",
        "fullname",
        "Contact",
        _dv_contact_with_parent,
        "Status = Active and Company Name is an account",
    ),
    direction=BOTH,
    fields=(
        FieldMap(
            ("displayName",), ("firstname", "lastname"), BOTH, transforms.split_name, transforms.join_name
        ),
        *_ADDRESS,
        pair("email", "emailaddress1"),
        pair("phoneNumber", "telephone1"),
        pair("mobilePhoneNumber", "mobilephone"),
    ),
    lookups=(
        # A BC person points at its company contact (Company No.); that company contact's business relation
        # (contactInformation) names the customer, whose coupling names the account: the parent, both ways.
        Lookup(
            "companyNumber",
            "parentcustomerid",
            "CUSTOMER",
            BOTH,
            bind="parentcustomerid_account",
            caption="Company No.",
            via_relation=True,
        ),
    ),
    match=((MatchField("email", "emailaddress1"),),),
    dependencies=("CUSTOMER",),
    bc_constants={"type": "Person"},
)

ITEM_PRODUCT = MappingSpec(
    name="ITEM-PRODUCT",
    bc=TableSide(BC, "items", "item", "number", "displayName", "Item"),
    dataverse=TableSide(DV, "products", "product", "productnumber", "name", "Product"),
    direction=TO_DV,
    fields=(
        pair("number", "productnumber", TO_DV),
        pair("displayName", "name", TO_DV),
        pair("unitPrice", "price", TO_DV),
    ),
    match=((MatchField("number", "productnumber"),),),
    dataverse_constants={"producttypecode": PRODUCT_TYPE_SALES_INVENTORY},
)

DEFAULT_SPECS: tuple[MappingSpec, ...] = (SALESPEOPLE, CURRENCY, CUSTOMER, CONTACT, ITEM_PRODUCT)
SPECS: dict[str, MappingSpec] = {spec.name: spec for spec in DEFAULT_SPECS}
POSITION_STEP = 10


def spec_for(name: str) -> MappingSpec:
    """The definition of a mapping by name; raises KeyError for an unknown one."""
    return SPECS[name.upper()]


def spec_for_table(system: System, table: str) -> MappingSpec | None:
    """The mapping whose table on `system` has this entity set or singular name, or None."""
    wanted = table.lower()
    for spec in DEFAULT_SPECS:
        side = spec.side(system)
        if wanted in (side.entity_set.lower(), side.name.lower()):
            return spec
    return None


def mapping_row(spec: MappingSpec, *, position: int) -> Mapping:
    """A new Mapping row with the spec's defaults."""
    return Mapping(
        name=spec.name,
        bc_table=spec.bc.entity_set,
        dataverse_table=spec.dataverse.entity_set,
        direction=spec.direction,
        sync_only_coupled=spec.sync_only_coupled,
        deletion_conflict=spec.deletion_conflict,
        update_conflict=spec.update_conflict,
        dependencies=",".join(spec.dependencies),
        position=position,
    )


def seed_default_mappings(session: Session) -> list[Mapping]:
    """Insert the absent default Mapping rows (dependency order as positions); return the new ones."""
    existing = mapping_names(session)
    added = []
    for index, spec in enumerate(DEFAULT_SPECS, start=1):
        if spec.name not in existing:
            row = mapping_row(spec, position=index * POSITION_STEP)
            session.add(row)
            added.append(row)
    session.flush()
    return added
