"""What to do about a classified error, and who must do it: short plain-text hints with inline links."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storage.models import Category

# Business Central web-client page ids (reference §7, "Deep links").
PAGE_CURRENCIES = 5
PAGE_COUPLED_DATA_ERRORS = 5333
PAGE_TABLE_MAPPINGS = 5335
PAGE_SYNC_JOBS = 5338
PAGE_SYNC_ERRORS = 5339

POWER_PLATFORM_ADMIN_URL = "https://admin.powerplatform.microsoft.com/environments"
ENTRA_APP_REGISTRATIONS_URL = (
    "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade"
)
INTEGRATION_ROLE = "Business Central Dataverse Integration"
SYSTEM_ADMINISTRATOR_ROLE = "System Administrator"

# Microsoft Entra sign-in refusals (reference §6, "Sign-in errors"): code -> (meaning, what to do).
AADSTS_MEANINGS: dict[str, tuple[str, str]] = {
    # The bot signs in with client credentials (an Entra app registration and its client secret).
    "AADSTS7000215": (
        "the client secret is wrong",
        "An admin must copy the secret's Value (not its Secret ID) from the app registration's Certificates "
        "& secrets in Microsoft Entra into AZURE_CLIENT_SECRET",
    ),
    "AADSTS7000222": (
        "the client secret has expired",
        "An admin must add a new client secret to the app registration (Certificates & secrets) in "
        "Microsoft Entra and put its Value in AZURE_CLIENT_SECRET",
    ),
    "AADSTS700016": (
        "no app registration with this client id exists in the tenant",
        "An admin must check AZURE_CLIENT_ID (the app registration's Application (client) ID) and "
        "AZURE_TENANT_ID",
    ),
    "AADSTS65001": (
        "the app registration has not been granted admin consent",
        "An admin must grant admin consent to the app registration's API permissions (Dynamics CRM "
        "user_impersonation, Dynamics 365 Business Central API.ReadWrite.All) in Microsoft Entra",
    ),
    "AADSTS90002": (
        "the tenant was not found",
        "An admin must check AZURE_TENANT_ID (the directory (tenant) ID, or AUTH_TOKEN_URL)",
    ),
    "AADSTS90072": (
        "the app is not available in this tenant",
        "An admin must check AZURE_TENANT_ID, or register the app as multi-tenant and consent to it here",
    ),
    "AADSTS500011": (
        "the resource (API) was not found in the tenant",
        "An admin must check BC_API_URL / DATAVERSE_URL and that the app has permissions on that API",
    ),
    "AADSTS7000112": (
        "the app registration is disabled",
        "An admin must enable the app registration's enterprise application in Microsoft Entra",
    ),
    "AADSTS700024": (
        "the client assertion is not within its valid time range",
        "An admin must check the server clock and the certificate of the app registration",
    ),
    # Codes of user sign-ins: only seen when a user name and password were configured somewhere.
    "AADSTS50055": (
        "a user account's password has expired",
        "The bot signs in as an app, not as a user: an admin must set AZURE_CLIENT_ID and "
        "AZURE_CLIENT_SECRET to the app registration's client id and secret",
    ),
    "AADSTS50126": (
        "a user name or password was refused",
        "The bot signs in as an app, not as a user: an admin must set AZURE_CLIENT_ID and "
        "AZURE_CLIENT_SECRET to the app registration's client id and secret",
    ),
    "AADSTS50053": (
        "a user account is locked after too many failed sign-ins",
        "The bot signs in as an app, not as a user: an admin must set AZURE_CLIENT_ID and "
        "AZURE_CLIENT_SECRET to the app registration's client id and secret",
    ),
    "AADSTS50034": (
        "the account does not exist in this directory",
        "An admin must check AZURE_CLIENT_ID and AZURE_TENANT_ID against the app registration",
    ),
    "AADSTS50076": (
        "multi-factor authentication is required for a user sign-in",
        "The bot signs in as an app (no MFA applies): an admin must set AZURE_CLIENT_ID and "
        "AZURE_CLIENT_SECRET to the app registration's client id and secret",
    ),
    "AADSTS50079": (
        "multi-factor authentication registration is required for a user sign-in",
        "The bot signs in as an app (no MFA applies): an admin must set AZURE_CLIENT_ID and "
        "AZURE_CLIENT_SECRET to the app registration's client id and secret",
    ),
    "AADSTS50057": (
        "the account is disabled",
        "An admin must enable the app registration's enterprise application in Microsoft Entra",
    ),
}

_TABLE_CAPTIONS = {
    "customers": "Customer",
    "customer": "Customer",
    "contacts": "Contact",
    "contact": "Contact",
    "currencies": "Currency",
    "currency": "Currency",
    "items": "Item",
    "item": "Item",
    "salespeople": "Salesperson/Purchaser",
    "salesperson": "Salesperson/Purchaser",
    "accounts": "Account",
    "account": "Account",
    "transactioncurrencies": "Currency",
    "transactioncurrency": "Currency",
    "systemusers": "User",
    "systemuser": "User",
    "products": "Product",
    "product": "Product",
    "companies": "Company",
}
_SYSTEM_LABELS = {"business_central": "Business Central", "dataverse": "Dataverse", "auth": "Microsoft Entra"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def table_caption(table: str | None) -> str:
    """Business Central-style caption of an API table name: "customers" -> "Customer"."""
    if not table:
        return "Record"
    known = _TABLE_CAPTIONS.get(table.lower())
    if known:
        return known
    name = table[:-3] + "y" if table.endswith("ies") else table[:-1] if table.endswith("s") else table
    return name[:1].upper() + name[1:]


def field_caption(field: str) -> str:
    """Caption of an API field name: "currencyCode" -> "Currency Code"."""
    words = _CAMEL.sub(" ", field.replace("_", " ")).split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or field


def system_label(system: str | None) -> str:
    """Human name of a system id: "business_central" -> "Business Central"."""
    return _SYSTEM_LABELS.get(system or "", system or "the business app")


def aadsts_meaning(code: str | None) -> str | None:
    """What a Microsoft Entra AADSTS code means, or None when unknown."""
    if not code:
        return None
    entry = AADSTS_MEANINGS.get(_normalise_aadsts(code))
    return entry[0] if entry else None


def _normalise_aadsts(code: str) -> str:
    code = code.strip().upper()
    return code if code.startswith("AADSTS") else f"AADSTS{code}"


@dataclass(frozen=True)
class Links:
    """Base URLs the hints build links from; each may be unknown."""

    bc_web_url: str | None = None
    dataverse_url: str | None = None

    def bc_page(self, page_id: int) -> str | None:
        """Link to a Business Central page, e.g. Currencies (5)."""
        if not self.bc_web_url:
            return None
        base = self.bc_web_url.rstrip("/")
        joiner = "&" if "?" in base else "/?"
        return f"{base}{joiner}page={page_id}"

    def dataverse_user(self, user_id: str | None) -> str | None:
        """Link to a Dataverse user record (its security roles are one click away)."""
        if not self.dataverse_url or not user_id:
            return None
        return f"{self.dataverse_url.rstrip('/')}/main.aspx?pagetype=entityrecord&etn=systemuser&id={user_id}"


def _at(label: str, url: str | None) -> str:
    return f"{label} ({url})" if url else label


def privilege_words(privilege: str) -> str:
    """A privilege with its action and table in words, e.g. "prvCreateAccount (Create on Account)"."""
    match = re.fullmatch(r"prv(Create|Read|Write|Delete|AppendTo|Append|Assign|Share)(\w+)", privilege)
    if not match:
        return privilege
    return f"{privilege} ({match.group(1)} on {match.group(2)})"


def _permissions(facts: Mapping[str, Any], links: Links) -> str:
    system = facts.get("system")
    if system == "business_central":
        return (
            "An admin must give the bot's app registration a permission set that covers this table "
            "(e.g. D365 AUTOMATION; SUPER is not allowed) on Business Central's Microsoft Entra "
            "Applications page, then Re-sync."
        )
    privilege = facts.get("privilege")
    user = _at("the integration user", links.dataverse_user(facts.get("user_id")))
    if privilege:
        what = privilege_words(str(privilege))
        return (
            f"An admin must add {what} to a security role of {user} in Dataverse "
            f"(the {INTEGRATION_ROLE} role normally has it; custom tables need it added), then Re-sync."
        )
    return (
        f"An admin must give {user} the privileges this table needs in Dataverse "
        f"(the {INTEGRATION_ROLE} role), then Re-sync."
    )


def _admin_user(facts: Mapping[str, Any], links: Links) -> str:
    user = _at(
        str(facts.get("user_name") or "the integration user"), links.dataverse_user(facts.get("user_id"))
    )
    return (
        f"An admin must remove the {SYSTEM_ADMINISTRATOR_ROLE} role from {user} in Dataverse and give it "
        f"the {INTEGRATION_ROLE} role instead: changes made by the integration user are never synchronized, "
        "so an admin account breaks the synchronization."
    )


def _credentials(facts: Mapping[str, Any]) -> str:
    code = facts.get("aadsts")
    entry = AADSTS_MEANINGS.get(_normalise_aadsts(str(code))) if code else None
    if entry:
        return (
            f"Sign-in refused ({_normalise_aadsts(str(code))}): {entry[0]}. {entry[1]}. The next run retries."
        )
    if facts.get("system") == "business_central":
        return (
            "Business Central refused the bot's token. An admin must add AZURE_CLIENT_ID on Business "
            "Central's Microsoft Entra Applications page, set its State to Enabled, give it permission "
            "sets, and grant admin consent to API.ReadWrite.All in Microsoft Entra "
            f"({ENTRA_APP_REGISTRATIONS_URL})."
        )
    if facts.get("system") == "dataverse":
        return (
            "Dataverse refused the bot's token: the application user for AZURE_CLIENT_ID is missing or "
            f"disabled. An admin must add (or enable) it in the Power Platform admin centre "
            f"({POWER_PLATFORM_ADMIN_URL}, environment > Settings > Application users) with the "
            f"{INTEGRATION_ROLE} security role."
        )
    return (
        "Sign-in refused. An admin must check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET "
        f"against the app registration in Microsoft Entra ({ENTRA_APP_REGISTRATIONS_URL})."
    )


def _exchange_rate(facts: Mapping[str, Any], links: Links) -> str:
    code = facts.get("currency_code") or "this currency"
    # The rate is kept in Business Central (Currencies > Exch. Rates); Dataverse gets it from there.
    page = _at("the Currencies page", links.bc_page(PAGE_CURRENCIES))
    return (
        f"An admin must add an exchange rate for {code} in Business Central ({page}, Exch. Rates), "
        "then Re-sync the currency and the records that use it."
    )


def _deleted(facts: Mapping[str, Any], links: Links) -> str:
    deleted = system_label(facts.get("deleted_side"))
    surviving = system_label(facts.get("surviving_side"))
    deleted_table = table_caption(facts.get("deleted_table")).lower()
    surviving_table = table_caption(facts.get("surviving_table")).lower()
    key = facts.get("surviving_key")
    survivor = f"{surviving} {surviving_table}" + (f" {key}" if key else "")
    page = _at("Coupled Data Synchronization Errors", links.bc_page(PAGE_COUPLED_DATA_ERRORS))
    return (
        f"Someone deleted the {deleted} {deleted_table} but not the {survivor}. Restore the record, "
        f"delete the surviving one, or remove the coupling (buttons below, or {page})."
    )


def _dependency(facts: Mapping[str, Any], links: Links) -> str:
    mapping = facts.get("dependency_mapping")
    key = facts.get("dependency_key")
    caption = table_caption(facts.get("dependency_table"))
    record = _at(f"{caption.lower()} {key}" if key else f"the {caption.lower()}", facts.get("dependency_url"))
    run = f"run the {mapping} mapping" if mapping else "synchronize it"
    if facts.get("missing_reference"):
        where = system_label(facts.get("missing_in"))
        currency = ""
        if mapping == "CURRENCY":
            currency = (
                " If Business Central answers that it has no exchange rate, add one on "
                f"{_at('the Currencies page', links.bc_page(PAGE_CURRENCIES))} first."
            )
        return (
            f"This record is fine; {record} it refers to is missing in {where}. Re-create or couple "
            f"{record} first ({run}, or Couple dependency below), then Re-sync this record.{currency}"
        )
    page = _at("Integration Table Mappings", links.bc_page(PAGE_TABLE_MAPPINGS))
    return f"Couple {record} first: {run} (or couple it by hand; see {page}), then Re-sync this record."


def _update_conflict(facts: Mapping[str, Any], links: Links) -> str:
    if facts.get("stale_etag"):
        return (
            "The record changed while it was being synchronized. Re-sync it; "
            "if it repeats, someone keeps editing it."
        )
    page = _at("Integration Table Mappings", links.bc_page(PAGE_TABLE_MAPPINGS))
    return (
        "Both apps changed this record since the last sync. The person who edited it should decide which "
        "side is right and Re-sync from that side, or an admin sets Resolve Update Conflicts on the "
        f"mapping ({page})."
    )


def _throttled(facts: Mapping[str, Any]) -> str:
    wait = facts.get("retry_after")
    after = f" after {int(float(wait))} s" if isinstance(wait, int | float) and wait >= 0 else ""
    return (
        f"{system_label(facts.get('system'))} is limiting the bot's requests; the next run picks up{after} "
        "where this one stopped. If it repeats, an admin should lengthen the mapping's interval or move "
        "big syncs to quiet hours."
    )


def _connection(facts: Mapping[str, Any]) -> str:
    label = system_label(facts.get("system"))
    if facts.get("status"):
        return (
            f"{label} failed on its side (HTTP {facts['status']}); the next run retries. If it persists, "
            "check the service health in the admin centre."
        )
    return (
        f"{label} could not be reached or did not answer in time; the next run retries. If it persists, "
        "an admin should check BC_API_URL / DATAVERSE_URL and the network."
    )


def _admin_mode() -> str:
    return (
        "The Dataverse environment is in administration mode, so only admins can sign in and nothing "
        f"syncs. An admin must turn Administration mode off in the Power Platform admin centre "
        f"({POWER_PLATFORM_ADMIN_URL}, environment > Settings), then the next run retries."
    )


def _validation(facts: Mapping[str, Any], links: Links) -> str:
    if facts.get("coupling_reason"):
        return {
            "already-coupled": "The target is already coupled to another record. Remove that coupling first, "
            "or couple this record to a different one.",
            "no-match": "No record matched the coupling criteria. Create the record, or couple it by hand.",
            "several-matches": "Several records matched the coupling criteria. Couple the right one by hand.",
        }.get(str(facts["coupling_reason"]), "Couple the record by hand.")
    page = _at("Integration Synchronization Errors", links.bc_page(PAGE_SYNC_ERRORS))
    return (
        "The app refused the data. The person who edited the record should correct the value the message "
        f"names, then Re-sync (see also {page})."
    )


def hint_for(category: Category, facts: Mapping[str, Any], *, links: Links | None = None) -> str:
    """Short, specific text of what to do about an error of `category` with `facts`, and who must do it."""
    links = links or Links()
    if category is Category.PERMISSIONS:
        return _permissions(facts, links)
    if category is Category.ADMIN_INTEGRATION_USER:
        return _admin_user(facts, links)
    if category is Category.CREDENTIALS:
        return _credentials(facts)
    if category is Category.EXCHANGE_RATE:
        return _exchange_rate(facts, links)
    if category is Category.DELETED_RECORD:
        return _deleted(facts, links)
    if category is Category.DEPENDENCY_NOT_COUPLED:
        return _dependency(facts, links)
    if category is Category.UPDATE_CONFLICT:
        return _update_conflict(facts, links)
    if category is Category.THROTTLED:
        return _throttled(facts)
    if category is Category.CONNECTION:
        return _connection(facts)
    if category is Category.ADMIN_MODE:
        return _admin_mode()
    if category is Category.VALIDATION:
        return _validation(facts, links)
    if category is Category.SEVERAL_MATCHES:
        return (
            f"Several {table_caption(str(facts.get('candidate_table') or ''))} records match this one, so "
            "nothing was created. Someone who knows both apps should couple it to the right one (Couple…, or "
            "`couple REF OTHER_REF` in a terminal), or make the duplicates differ, then Re-sync."
        )
    page = _at("Integration Synchronization Errors", links.bc_page(PAGE_SYNC_ERRORS))
    return (
        "Unexpected error. Re-sync once; if it repeats, an admin should open Details and check the "
        f"record in both apps (see {page})."
    )
