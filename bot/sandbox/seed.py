"""Deterministic demo data for both apps: CRONUS customers, contacts, currencies, salespeople, items,
and a Dataverse that already holds some of them (so match-based coupling has work) plus its own rows."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sandbox.constants import (
    COMPANY_NAME,
    INTEGRATION_ROLE,
    INTEGRATION_ROLE_ID,
    INTEGRATION_USER_NAME,
    SANDBOX_CLIENT_ID,
    SYSTEM_ADMINISTRATOR_ROLE,
    SYSTEM_ADMINISTRATOR_TEMPLATE_ID,
)
from bot.sandbox.schema import RELATIONSHIP_TYPES
from bot.sandbox.store import DataStore
from bot.sandbox.timestamps import business_central_timestamp, dataverse_timestamp

SEED_EPOCH = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)

_NAME_HEADS = (
    "Adatum",
    "Trey",
    "Fabrikam",
    "Contoso",
    "Litware",
    "Alpine",
    "Coho",
    "Northwind",
    "Tailspin",
    "Wingtip",
    "Woodgrove",
    "Proseware",
    "Lamna",
    "Relecloud",
    "Fourth Coffee",
    "Wide World",
    "Margie's",
    "Lucerne",
    "Humongous",
    "Southridge",
    "Blue Yonder",
    "Consolidated",
    "Fincher",
    "Munson's",
    "Nod",
    "School of Fine Art",
    "City Power",
    "Graphic Design",
    "Best For You",
    "Selfridge",
    "Guildford",
    "Deerfield",
    "Klein",
    "Progressive",
    "Parker",
)
_NAME_MIDDLES = (
    "",
    "",
    "",
    "Global",
    "North",
    "Pacific",
    "Digital",
    "Media",
    "Logistics",
    "Foods",
    "Energy",
    "Water",
    "Health",
    "Travel",
    "Motors",
    "Design",
)
_NAME_TAILS = (
    "Corporation",
    "Research",
    "Inc.",
    "Ltd.",
    "Holdings",
    "Industries",
    "Group",
    "Systems",
    "Traders",
    "Partners",
    "Airlines",
    "Bank",
    "Studios",
    "Publishing",
    "Supplies",
    "Furniture",
    "& Co.",
)
_PLACES = (
    ("Atlanta", "31772", "US", "GA", "USD"),
    ("Chicago", "61236", "US", "IL", "USD"),
    ("Miami", "37125", "US", "FL", "USD"),
    ("London", "W2 8HG", "GB", "", ""),
    ("Manchester", "M61 2JR", "GB", "", ""),
    ("Birmingham", "B27 4KT", "GB", "", ""),
    ("Copenhagen", "1152", "DK", "", "DKK"),
    ("Aarhus", "8000", "DK", "", "DKK"),
    ("Praha", "110 00", "CZ", "", "CZK"),
    ("Brno", "602 00", "CZ", "", "CZK"),
    ("Antwerpen", "2000", "BE", "", "EUR"),
    ("Amsterdam", "1012 AB", "NL", "", "EUR"),
    ("Berlin", "10115", "DE", "", "EUR"),
)
_STREETS = (
    "Main Street",
    "Station Road",
    "Church Lane",
    "Park Avenue",
    "Mill Road",
    "High Street",
    "Kings Road",
    "Oak Drive",
    "Lake View",
    "Harbour Way",
)
_FIRST_NAMES = (
    "Anna",
    "Bart",
    "Carla",
    "David",
    "Emma",
    "Frank",
    "Gina",
    "Hugo",
    "Ivana",
    "Jakub",
    "Karen",
    "Lars",
    "Maria",
    "Niels",
    "Olga",
    "Peter",
    "Rosa",
    "Stefan",
    "Tereza",
    "Ursula",
    "Viktor",
    "Wendy",
)
_LAST_NAMES = (
    "Hill",
    "Duncan",
    "Olive",
    "Falls",
    "Saddow",
    "Roberts",
    "Horst",
    "Jensen",
    "Novak",
    "de Vries",
    "Schmidt",
    "Evans",
    "Andersen",
    "Dvorak",
    "Peeters",
    "Miller",
    "Baker",
    "Svoboda",
    "Nielsen",
    "Wright",
)
_SALESPEOPLE = (
    ("AH", "Annette Hill"),
    ("BD", "Bart Duncan"),
    ("JO", "Jim Olive"),
    ("OF", "Otis Falls"),
    ("PS", "Peter Saddow"),
    ("JR", "John Roberts"),
    ("MH", "Marty Horst"),
)
_CURRENCIES = (
    ("EUR", "Euro", "€", ("0.8614", "0.8702")),
    ("USD", "US dollar", "$", ("0.7862", "0.7911")),
    ("GBP", "Pound sterling", "£", ("1.0", "1.0")),
    ("DKK", "Danish krone", "kr.", ("0.1155", "0.1167")),
    ("CZK", "Czech koruna", "Kč", ("0.0342", "0.0345")),
)
_ITEMS = (
    ("1896-S", "ATHENS Desk", "1000.8"),
    ("1900-S", "PARIS Guest Chair, black", "192.8"),
    ("1906-S", "ATHENS Mobile Pedestal", "281.4"),
    ("1908-S", "LONDON Swivel Chair, blue", "190.1"),
    ("1920-S", "ANTWERP Conference Table", "420.4"),
    ("1924-W", "CHAMONIX Base Storage Unit", "247.0"),
    ("1928-S", "AMSTERDAM Lamp", "54.9"),
    ("1936-S", "BERLIN Guest Chair, yellow", "192.8"),
    ("1953-W", "GUILDFORD Conference Table", "415.7"),
    ("1964-S", "TOKYO Guest Chair, blue", "192.8"),
    ("1968-S", "MEXICO Swivel Chair, black", "190.1"),
    ("1972-S", "MUNICH Swivel Chair, yellow", "190.1"),
    ("1988-S", "SEOUL Guest Chair, red", "192.8"),
    ("1996-S", "ATLANTA Whiteboard, base", "1397.3"),
    ("2000-S", "SYDNEY Swivel Chair, green", "190.1"),
    ("SRV-INSTALL", "Installation service", "85.0"),
)
_DATAVERSE_ONLY_HEADS = (
    "Aurora",
    "Bellows",
    "Cascade",
    "Driftwood",
    "Evergreen",
    "Foxglove",
    "Granite",
    "Harbor",
    "Ironwood",
    "Juniper",
    "Kestrel",
    "Lighthouse",
    "Meadowlark",
    "Nimbus",
    "Orchard",
    "Pinnacle",
)


# The accounts only Dataverse has cover every relationship type once, then active and inactive
# (`statecode` 1, `statuscode` 2) customers.
_OWN_ACCOUNT_KINDS = [(code, 0) for code in RELATIONSHIP_TYPES] + [(3, 0), (3, 0), (3, 1), (3, 1)]
_LONE_PERSONS = (("Quentin", "Lowe"), ("Renata", "Kowalski"), ("Sven", "Ostberg"))


@dataclass(frozen=True)
class SeedIdentities:
    """Ids the server hands out: the company, the integration user, a person who edits, the org."""

    company_id: str
    integration_user_id: str
    editor_user_id: str
    business_unit_id: str
    organization_id: str
    base_currency_id: str
    system_administrator_role_id: str


class _Seeder:
    """Fills a DataStore from one `random.Random`, so the same seed always yields the same data."""

    def __init__(self, store: DataStore, seed: int, records: int) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.records = records
        self.clock = SEED_EPOCH

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=self.rng.randint(20, 400), milliseconds=self.rng.randint(0, 999))
        return self.clock

    def bc(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        row["lastModifiedDateTime"] = business_central_timestamp(self.tick())
        stored = {"@odata.etag": self.store.next_bc_etag(), **row}
        self.store.put("bc", table, row["id"], stored)
        return stored

    def dv(self, table: str, key: str, row: dict[str, Any], by: str) -> dict[str, Any]:
        moment = dataverse_timestamp(self.tick())
        version = self.store.next_dv_version()
        stored = {
            "@odata.etag": f'W/"{version}"',
            **row,
            "createdon": moment,
            "modifiedon": moment,
            "_createdby_value": by,
            "_modifiedby_value": by,
            "versionnumber": version,
        }
        self.store.put("dataverse", table, row[key], stored)
        return stored

    def company_names(self) -> list[str]:
        names = [
            " ".join(part for part in (head, middle, tail) if part)
            for head in _NAME_HEADS
            for middle in _NAME_MIDDLES
            for tail in _NAME_TAILS
        ]
        names = sorted(set(names))
        self.rng.shuffle(names)
        needed = self.records + len(_DATAVERSE_ONLY_HEADS) * 2
        extra = 2
        while len(names) < needed:
            names += [f"{name} {extra}" for name in names[: needed - len(names)]]
            extra += 1
        return names

    def run(self) -> SeedIdentities:
        company_id = self.guid()
        business_unit_id, organization_id = self.guid(), self.guid()
        self.store.put(
            "bc",
            "companies",
            company_id,
            {
                "id": company_id,
                "systemVersion": "25.2.28255.29301",
                "name": COMPANY_NAME,
                "displayName": COMPANY_NAME,
                "businessProfileId": "",
                "systemCreatedAt": business_central_timestamp(SEED_EPOCH - timedelta(days=400)),
                "systemModifiedAt": business_central_timestamp(SEED_EPOCH - timedelta(days=400)),
            },
        )
        users = self.seed_users(business_unit_id)
        currency_ids = self.seed_bc_currencies()
        self.seed_bc_salespeople()
        self.seed_bc_items()
        names = self.company_names()
        customers = self.seed_bc_customers(names[: self.records], currency_ids)
        persons = self.seed_bc_contacts(customers)
        base_currency_id = self.seed_dv_currencies(users["editor"])
        self.seed_dv_accounts(customers, persons, names[self.records :], users, base_currency_id)
        self.seed_dv_products(users["editor"], base_currency_id)
        self.seed_lone_contacts(users["editor"], base_currency_id)
        return SeedIdentities(
            company_id=company_id,
            integration_user_id=users["integration"],
            editor_user_id=users["editor"],
            business_unit_id=business_unit_id,
            organization_id=organization_id,
            base_currency_id=base_currency_id,
            system_administrator_role_id=users["sysadmin_role"],
        )

    def seed_users(self, business_unit_id: str) -> dict[str, str]:
        roles = {}
        for name, template in (
            (SYSTEM_ADMINISTRATOR_ROLE, SYSTEM_ADMINISTRATOR_TEMPLATE_ID),
            ("Salesperson", None),
            ("Sales Manager", None),
            ("Basic User", None),
            (INTEGRATION_ROLE, None),
        ):
            role_id = INTEGRATION_ROLE_ID if name == INTEGRATION_ROLE else self.guid()
            roles[name] = role_id
            system = "00000000-0000-0000-0000-000000000000"
            self.dv(
                "roles",
                "roleid",
                {
                    "roleid": role_id,
                    "name": name,
                    "roletemplateid": template,
                    "_businessunitid_value": business_unit_id,
                },
                by=system,
            )
        integration_id = self.guid()
        admin_id = self.guid()
        editor_id = ""
        people = [(admin_id, "Sandbox Admin", "admin@cronus-demosite.com", [SYSTEM_ADMINISTRATOR_ROLE])]
        for code, name in _SALESPEOPLE:
            first = name.split()[0].lower()
            people.append((self.guid(), name, f"{first}@cronus-demosite.com", ["Salesperson", "Basic User"]))
            if code == "JO":
                people[-1][3].append("Sales Manager")
                editor_id = people[-1][0]
        for user_id, fullname, email, role_names in people:
            first, _, last = fullname.partition(" ")
            self.dv(
                "systemusers",
                "systemuserid",
                {
                    "systemuserid": user_id,
                    "fullname": fullname,
                    "firstname": first,
                    "lastname": last,
                    "internalemailaddress": email,
                    "mobilephone": f"+44 7700 9{self.rng.randint(10000, 99999)}",
                    "isdisabled": False,
                    "islicensed": True,
                    "accessmode": 0,
                    "applicationid": None,
                    "azureactivedirectoryobjectid": self.guid(),
                    "_businessunitid_value": business_unit_id,
                },
                by=admin_id,
            )
            for role_name in role_names:
                self.link_role(user_id, roles[role_name])
        self.dv(
            "systemusers",
            "systemuserid",
            {
                "systemuserid": integration_id,
                "fullname": INTEGRATION_USER_NAME,
                "firstname": "#",
                "lastname": "Business Central Integration",
                "internalemailaddress": f"bcintegration@{SANDBOX_CLIENT_ID[:8]}.onmicrosoft.com",
                "mobilephone": None,
                "isdisabled": False,
                "islicensed": False,
                "accessmode": 4,
                "applicationid": SANDBOX_CLIENT_ID,
                "azureactivedirectoryobjectid": self.guid(),
                "_businessunitid_value": business_unit_id,
            },
            by=admin_id,
        )
        self.link_role(integration_id, roles[INTEGRATION_ROLE])
        return {
            "integration": integration_id,
            "editor": editor_id,
            "admin": admin_id,
            "sysadmin_role": roles[SYSTEM_ADMINISTRATOR_ROLE],
        }

    def link_role(self, user_id: str, role_id: str) -> None:
        link_role(self.store, user_id, role_id)

    def seed_bc_currencies(self) -> dict[str, str]:
        ids = {}
        for code, name, symbol, rates in _CURRENCIES:
            ids[code] = self.guid()
            self.bc("currencies", {"id": ids[code], "code": code, "displayName": name, "symbol": symbol})
            for starting, rate in zip(("2024-01-01", "2025-01-01"), rates, strict=True):
                self.bc(
                    "currencyExchangeRates",
                    {
                        "id": self.guid(),
                        "currencyCode": code,
                        "startingDate": starting,
                        "exchangeAmount": 1.0,
                        "relationalExchangeAmount": float(rate),
                    },
                )
        return ids

    def seed_bc_salespeople(self) -> None:
        for code, name in _SALESPEOPLE:
            first = name.split()[0].lower()
            self.bc(
                "salespeople",
                {
                    "id": self.guid(),
                    "code": code,
                    "displayName": name,
                    "email": f"{first}@cronus-demosite.com",
                    "phoneNumber": f"+44 20 7946 0{self.rng.randint(100, 999)}",
                },
            )

    def seed_bc_items(self) -> None:
        for number, name, price in _ITEMS:
            self.bc(
                "items",
                {
                    "id": self.guid(),
                    "number": number,
                    "displayName": name,
                    "type": "Service" if number.startswith("SRV") else "Inventory",
                    "unitPrice": float(price),
                    "baseUnitOfMeasureCode": "HOUR" if number.startswith("SRV") else "PCS",
                    "blocked": False,
                },
            )

    def seed_bc_customers(self, names: list[str], currency_ids: dict[str, str]) -> list[dict[str, Any]]:
        customers = []
        for index, name in enumerate(names):
            city, postal, country, state, currency = self.rng.choice(_PLACES)
            slug = "".join(ch for ch in name.lower().split(" ")[0] if ch.isalnum()) or "company"
            customers.append(
                self.bc(
                    "customers",
                    {
                        "id": self.guid(),
                        "number": str((index + 1) * 10000),
                        "displayName": name,
                        "type": "Company",
                        "addressLine1": f"{self.rng.randint(1, 250)} {self.rng.choice(_STREETS)}",
                        "addressLine2": "",
                        "city": city,
                        "state": state,
                        "country": country,
                        "postalCode": postal,
                        "phoneNumber": f"+{self.rng.randint(1, 49)} {self.rng.randint(100, 999)} "
                        f"{self.rng.randint(100000, 999999)}",
                        "email": f"info@{slug}{index + 1}.example.com",
                        "website": f"www.{slug}{index + 1}.example.com",
                        "salespersonCode": self.rng.choice([code for code, _ in _SALESPEOPLE] + [""]),
                        "creditLimit": float(self.rng.choice((0, 5000, 10000, 25000, 50000))),
                        "currencyId": currency_ids.get(currency, "00000000-0000-0000-0000-000000000000"),
                        "currencyCode": currency,
                        "blocked": " ",
                    },
                )
            )
        return customers

    def seed_bc_contacts(self, customers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        persons: dict[str, dict[str, Any]] = {}
        counter = 0
        for customer in customers:
            counter += 10
            company_number = f"CT{counter:06d}"
            company_id = self.guid()
            # The business relation (Customer) between the customer and its company contact.
            self.store.put(
                "bc",
                "contactBusinessRelations",
                company_id,
                {"contactId": company_id, "relatedId": customer["id"]},
            )
            self.bc(
                "contacts",
                {
                    "id": company_id,
                    "number": company_number,
                    "type": "Company",
                    "displayName": customer["displayName"],
                    "companyNumber": company_number,
                    "companyName": customer["displayName"],
                    "addressLine1": customer["addressLine1"],
                    "city": customer["city"],
                    "postalCode": customer["postalCode"],
                    "country": customer["country"],
                    "phoneNumber": customer["phoneNumber"],
                    "mobilePhoneNumber": "",
                    "email": customer["email"],
                    "website": customer["website"],
                },
            )
            if self.rng.random() < 0.15:
                continue
            counter += 10
            first, last = self.rng.choice(_FIRST_NAMES), self.rng.choice(_LAST_NAMES)
            domain = customer["email"].partition("@")[2]
            persons[customer["id"]] = self.bc(
                "contacts",
                {
                    "id": self.guid(),
                    "number": f"CT{counter:06d}",
                    "type": "Person",
                    "displayName": f"{first} {last}",
                    "companyNumber": company_number,
                    "companyName": customer["displayName"],
                    "addressLine1": customer["addressLine1"],
                    "city": customer["city"],
                    "postalCode": customer["postalCode"],
                    "country": customer["country"],
                    "phoneNumber": customer["phoneNumber"],
                    "mobilePhoneNumber": f"+{self.rng.randint(1, 49)} "
                    f"7{self.rng.randint(10000000, 99999999)}",
                    "email": f"{first.lower()}.{last.lower().replace(' ', '')}@{domain}",
                    "website": "",
                },
            )
        return persons

    def seed_dv_currencies(self, editor: str) -> str:
        base_id = ""
        for code, name, symbol, rate in (("USD", "US Dollar", "$", "1.0"), ("EUR", "Euro", "€", "0.9214")):
            currency_id = self.guid()
            base_id = base_id or currency_id
            self.dv(
                "transactioncurrencies",
                "transactioncurrencyid",
                {
                    "transactioncurrencyid": currency_id,
                    "isocurrencycode": code,
                    "currencyname": name,
                    "currencysymbol": symbol,
                    "exchangerate": float(rate),
                    "currencyprecision": 2,
                    "statecode": 0,
                },
                by=editor,
            )
        return base_id

    def seed_dv_accounts(
        self,
        customers: list[dict[str, Any]],
        persons: dict[str, dict[str, Any]],
        spare_names: list[str],
        users: dict[str, str],
        base_currency_id: str,
    ) -> None:
        overlap = [customer for customer in customers if self.rng.random() < 0.4]
        own = [f"{head} {spare_names[i].split(' ', 1)[-1]}" for i, head in enumerate(_DATAVERSE_ONLY_HEADS)]
        for customer in overlap:
            account = self.account(customer["displayName"], users["editor"], base_currency_id)
            account.update(
                {
                    "telephone1": customer["phoneNumber"],
                    "address1_city": customer["city"],
                    "address1_country": customer["country"],
                    "emailaddress1": customer["email"],
                }
            )
            person = persons.get(customer["id"])
            if person is not None and self.rng.random() < 0.7:
                first, _, last = person["displayName"].partition(" ")
                self.dv(
                    "contacts",
                    "contactid",
                    {
                        "contactid": self.guid(),
                        "firstname": first,
                        "lastname": last,
                        "fullname": f"{first} {last}",
                        "emailaddress1": person["email"],
                        "telephone1": person["phoneNumber"],
                        "mobilephone": person["mobilePhoneNumber"],
                        "jobtitle": None,
                        "address1_line1": None,
                        "address1_line2": None,
                        "address1_city": person["city"],
                        "address1_postalcode": person["postalCode"],
                        "address1_stateorprovince": None,
                        "address1_country": person["country"],
                        "statecode": 0,
                        "_parentcustomerid_value": account["accountid"],
                        "_transactioncurrencyid_value": base_currency_id,
                        "_ownerid_value": users["editor"],
                    },
                    by=users["editor"],
                )
        for index, name in enumerate(own):
            account = self.account(name, users["admin"], base_currency_id)
            relationship, state = _OWN_ACCOUNT_KINDS[index % len(_OWN_ACCOUNT_KINDS)]
            account.update({"customertypecode": relationship, "statecode": state, "statuscode": state + 1})

    def account(self, name: str, owner: str, base_currency_id: str) -> dict[str, Any]:
        return self.dv(
            "accounts",
            "accountid",
            {
                "accountid": self.guid(),
                "name": name,
                "accountnumber": None,
                "emailaddress1": None,
                "telephone1": None,
                "fax": None,
                "websiteurl": None,
                "address1_line1": None,
                "address1_line2": None,
                "address1_city": None,
                "address1_postalcode": None,
                "address1_stateorprovince": None,
                "address1_country": None,
                "creditlimit": None,
                "customertypecode": 3,
                "statecode": 0,
                "statuscode": 1,
                "_transactioncurrencyid_value": base_currency_id,
                "_ownerid_value": owner,
                "_primarycontactid_value": None,
            },
            by=owner,
        )

    def seed_dv_products(self, editor: str, base_currency_id: str) -> None:
        for number, name, price in _ITEMS[:3]:
            self.dv(
                "products",
                "productid",
                {
                    "productid": self.guid(),
                    "productnumber": number,
                    "name": name,
                    "price": float(price),
                    "producttypecode": 1,
                    "statecode": 0,
                    "_transactioncurrencyid_value": base_currency_id,
                },
                by=editor,
            )

    def seed_lone_contacts(self, editor: str, base_currency_id: str) -> None:
        """Business Central persons without a company, Dataverse contacts without a parent account."""
        numbers = [int(str(row["number"])[2:]) for row in self.store.table("bc", "contacts").values()]
        following = max(numbers, default=0)
        for first, last in _LONE_PERSONS:
            following += 10
            email = f"{first.lower()}.{last.lower()}@example.net"
            self.bc(
                "contacts",
                {
                    "id": self.guid(),
                    "number": f"CT{following:06d}",
                    "type": "Person",
                    "displayName": f"{first} {last}",
                    "companyNumber": "",
                    "companyName": "",
                    "addressLine1": "",
                    "city": "",
                    "postalCode": "",
                    "country": "",
                    "phoneNumber": "",
                    "mobilePhoneNumber": "",
                    "email": email,
                    "website": "",
                },
            )
        for first, last in _LONE_PERSONS:
            self.dv(
                "contacts",
                "contactid",
                {
                    "contactid": self.guid(),
                    "firstname": first,
                    "lastname": f"{last} (Sales)",
                    "fullname": f"{first} {last} (Sales)",
                    "emailaddress1": f"{first.lower()}@sales-only.example.org",
                    "telephone1": None,
                    "mobilephone": None,
                    "jobtitle": None,
                    "address1_line1": None,
                    "address1_line2": None,
                    "address1_city": None,
                    "address1_postalcode": None,
                    "address1_stateorprovince": None,
                    "address1_country": None,
                    "statecode": 0,
                    "_parentcustomerid_value": None,
                    "_transactioncurrencyid_value": base_currency_id,
                    "_ownerid_value": editor,
                },
                by=editor,
            )


def link_role(store: DataStore, user_id: str, role_id: str) -> None:
    """Assign a security role to a Dataverse user (a systemuserroles row)."""
    store.put(
        "dataverse",
        "systemuserroles",
        f"{user_id}:{role_id}",
        {"systemuserid": user_id, "roleid": role_id},
    )


def seed_store(store: DataStore, seed: int, records: int) -> SeedIdentities:
    """Fill an empty store with the demo data for `seed`; returns the identities the server exposes."""
    with store.lock:
        return _Seeder(store, seed, records).run()
