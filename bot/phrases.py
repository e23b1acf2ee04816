"""What results, hints and refusals say, as keys and values; their words in en, cs and nl, made on demand.

bot.sync and the worker return a Phrase (a key of PHRASES and the values it names); bot.blocks, the
terminal and the stored English copy (the `hint` of CONTRACT.md's JSON, the audit detail) render it in one
language. The English texts below are the gettext message ids of bot/locale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from bot.i18n import DEFAULT_LOCALE, gettext_for, normalize_locale


def _(text: str) -> str:
    """Mark an English text as a message id (Babel extracts it); it is translated when rendered."""
    return text


def _n(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with a plural; the value `n` chooses the form."""
    return singular, plural


Value = Union[str, int, float, "Phrase"]


@dataclass(frozen=True)
class Phrase:
    """One thing to say: a key of PHRASES and the values its words name (text, numbers, other phrases)."""

    key: str
    values: Mapping[str, Value] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.key not in PHRASES and self.key not in _SPECIAL:
            raise KeyError(f"no words for phrase {self.key!r}")

    def to_data(self) -> dict[str, Any]:
        """A JSON-able form (kept with an error's facts, read back by from_data)."""
        return {
            "key": self.key,
            "values": {k: v.to_data() if isinstance(v, Phrase) else v for k, v in self.values.items()},
        }

    @staticmethod
    def from_data(data: object) -> Phrase | None:
        """The phrase of to_data, or None when the data is not one (or names words we no longer have)."""
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            return None
        raw = data.get("values")
        values: dict[str, Value] = {}
        for name, value in (raw if isinstance(raw, dict) else {}).items():
            if isinstance(value, dict):
                inner = Phrase.from_data(value)
                if inner is None:
                    return None
                values[str(name)] = inner
            elif isinstance(value, str | int | float):
                values[str(name)] = value
        try:
            return Phrase(data["key"], values)
        except KeyError:
            return None


def say(key: str, /, **values: Value | None) -> Phrase:
    """The phrase `key` with its values (None values are left out)."""
    return Phrase(key, {name: value for name, value in values.items() if value is not None})


def joined(items: Sequence[Value]) -> Value:
    """Items as "a; b; c" (each may be a phrase)."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return say("term.semicolons", first=items[0], rest=joined(items[1:]))


def link(label: Value, url: str | None) -> Phrase:
    """A label that links to `url` when there is one."""
    return say(LINK, label=label, url=url)


def app(system: str | None) -> Phrase:
    """The name of a system ("business_central" -> Business Central)."""
    return say(APP, system=system or "")


def noun(table: str | None) -> Phrase:
    """The lower-case noun of one record of a table ("customers" -> customer)."""
    return say(NOUN, table=table or "")


def caption(table: str | None) -> Phrase:
    """Business Central's caption of a table ("customers" -> Customer)."""
    return say(CAPTION, table=table or "")


LINK, APP, NOUN, CAPTION = "link", "app", "noun", "caption"
ADVICE_FACT = "advice"  # the fact that keeps an error's hint as a phrase (Phrase.to_data)
SAID_FACT = "said"  # the fact that keeps an error's message as a phrase, when the words are ours
_SPECIAL = {LINK, APP, NOUN, CAPTION}

SYSTEM_NAMES = {"business_central": "Business Central", "dataverse": "Dataverse", "auth": "Microsoft Entra"}

TABLE_CAPTIONS = {
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

# Business Central's captions in the readers' words (lower case; the caption capitalizes the first letter).
_NOUNS = {
    "Customer": _("customer"),
    "Contact": _("contact"),
    "Currency": _("currency"),
    "Item": _("item"),
    "Salesperson/Purchaser": _("salesperson/purchaser"),
    "Account": _("account"),
    "User": _("user"),
    "Product": _("product"),
    "Company": _("company"),
    "Record": _("record"),
}


def table_caption(table: str | None) -> str:
    """Business Central-style caption of an API table name: "customers" -> "Customer"."""
    if not table:
        return "Record"
    known = TABLE_CAPTIONS.get(table.lower())
    if known:
        return known
    name = table[:-3] + "y" if table.endswith("ies") else table[:-1] if table.endswith("s") else table
    return name[:1].upper() + name[1:]


INTEGRATION_ROLE = "Business Central Dataverse Integration"
ENTRA_APP_REGISTRATIONS_URL = (
    "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade"
)
POWER_PLATFORM_ADMIN_URL = "https://admin.powerplatform.microsoft.com/environments"

# Every phrase's words, by key. Grouped: terms, hints, action results, the worker's outcomes.
PHRASES: dict[str, str | tuple[str, str]] = {
    # ---- terms (Business Central's and Dataverse's own names where they have them) -------------------
    "term.business_app": _("the business app"),
    "term.integration_user": _("the integration user"),
    "term.system_administrator": _("System Administrator"),
    "term.currencies_page": _("the Currencies page"),
    "term.coupled_data_errors": _("Coupled Data Synchronization Errors"),
    "term.table_mappings": _("Integration Table Mappings"),
    "term.sync_errors": _("Integration Synchronization Errors"),
    "term.this_currency": _("this currency"),
    "term.the_record": _("the {record}"),
    "term.record_key": _("{record} {key}"),
    "term.run_mapping": _("run the {mapping} mapping"),
    "term.synchronize_it": _("synchronize it"),
    "term.privilege": _("{privilege} ({action} on {table})"),
    "privilege.Create": _("Create"),
    "privilege.Read": _("Read"),
    "privilege.Write": _("Write"),
    "privilege.Delete": _("Delete"),
    "privilege.AppendTo": _("AppendTo"),
    "privilege.Append": _("Append"),
    "privilege.Assign": _("Assign"),
    "privilege.Share": _("Share"),
    "term.see_list": _("see `sync-errors list`"),
    # ---- hints: what to do about an error, and who must do it -----------------------------------------
    "hint.permissions.bc": _(
        "An admin must give the bot's app registration a permission set that covers this table "
        "(e.g. D365 AUTOMATION; SUPER is not allowed) on Business Central's Microsoft Entra "
        "Applications page, then Re-sync."
    ),
    "hint.permissions.privilege": _(
        "An admin must add {privilege} to a security role of {user} in Dataverse "
        "(the {role} role normally has it; custom tables need it added), then Re-sync."
    ),
    "hint.permissions.dataverse": _(
        "An admin must give {user} the privileges this table needs in Dataverse (the {role} role), "
        "then Re-sync."
    ),
    "hint.admin_user": _(
        "An admin must remove the {admin_role} role from {user} in Dataverse and give it the {role} role "
        "instead: changes made by the integration user are never synchronized, so an admin account breaks "
        "the synchronization."
    ),
    "hint.credentials.code": _("Sign-in refused ({code}): {meaning}. {advice}. The next run retries."),
    "hint.credentials.bc": _(
        "Business Central refused the bot's token. An admin must add AZURE_CLIENT_ID on Business Central's "
        "Microsoft Entra Applications page, set its State to Enabled, give it permission sets, and grant "
        "admin consent to API.ReadWrite.All in Microsoft Entra ({url})."
    ),
    "hint.credentials.dataverse": _(
        "Dataverse refused the bot's token: the application user for AZURE_CLIENT_ID is missing or "
        "disabled. An admin must add (or enable) it in the Power Platform admin centre ({url}, "
        "environment > Settings > Application users) with the {role} security role."
    ),
    "hint.credentials.other": _(
        "Sign-in refused. An admin must check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET "
        "against the app registration in Microsoft Entra ({url})."
    ),
    "hint.exchange_rate": _(
        "An admin must add an exchange rate for {code} in Business Central ({page}, Exch. Rates), "
        "then Re-sync the currency and the records that use it."
    ),
    "hint.deleted": _(
        "Someone deleted the {deleted} {deleted_table} but not the {survivor}. Restore the record, "
        "delete the surviving one, or remove the coupling (buttons below, or {page})."
    ),
    "hint.survivor": _("{app} {table}"),
    "hint.survivor_key": _("{app} {table} {key}"),
    "hint.dependency.missing": _(
        "This record is fine; {record} it refers to is missing in {app}. Re-create or couple "
        "{record} first ({run}, or Couple dependency below), then Re-sync this record."
    ),
    "hint.dependency.missing_currency": _(
        "This record is fine; {record} it refers to is missing in {app}. Re-create or couple "
        "{record} first ({run}, or Couple dependency below), then Re-sync this record. If Business "
        "Central answers that it has no exchange rate, add one on {page} first."
    ),
    "hint.dependency": _(
        "Couple {record} first: {run} (or couple it by hand; see {page}), then Re-sync this record."
    ),
    "hint.stale_etag": _(
        "The record changed while it was being synchronized. Re-sync it; if it repeats, someone keeps "
        "editing it."
    ),
    "hint.update_conflict": _(
        "Both apps changed this record since the last sync. The person who edited it should decide which "
        "side is right and Re-sync from that side, or an admin sets Resolve Update Conflicts on the "
        "mapping ({page})."
    ),
    "hint.throttled": _(
        "{app} is limiting the bot's requests; the next run picks up where this one stopped. If it "
        "repeats, an admin should lengthen the mapping's interval or move big syncs to quiet hours."
    ),
    "hint.throttled_wait": _(
        "{app} is limiting the bot's requests; the next run picks up after {seconds} s where this one "
        "stopped. If it repeats, an admin should lengthen the mapping's interval or move big syncs to "
        "quiet hours."
    ),
    "hint.connection.status": _(
        "{app} failed on its side (HTTP {status}); the next run retries. If it persists, check the service "
        "health in the admin centre."
    ),
    "hint.connection": _(
        "{app} could not be reached or did not answer in time; the next run retries. If it persists, an "
        "admin should check BC_API_URL / DATAVERSE_URL and the network."
    ),
    "hint.admin_mode": _(
        "The Dataverse environment is in administration mode, so only admins can sign in and nothing "
        "syncs. An admin must turn Administration mode off in the Power Platform admin centre ({url}, "
        "environment > Settings), then the next run retries."
    ),
    "hint.coupling.already_coupled": _(
        "The target is already coupled to another record. Remove that coupling first, or couple this "
        "record to a different one."
    ),
    "hint.coupling.no_match": _(
        "No record matched the coupling criteria. Create the record, or couple it by hand."
    ),
    "hint.coupling.several_matches": _(
        "Several records matched the coupling criteria. Couple the right one by hand."
    ),
    "hint.coupling.other": _("Couple the record by hand."),
    "hint.validation": _(
        "The app refused the data. The person who edited the record should correct the value the message "
        "names, then Re-sync (see also {page})."
    ),
    "hint.several_matches": _(
        "Several {table} records match this one, so nothing was created. Someone who knows both apps "
        "should couple it to the right one (Couple…, or `couple REF OTHER_REF` in a terminal), or make the "
        "duplicates differ, then Re-sync."
    ),
    "hint.other": _(
        "Unexpected error. Re-sync once; if it repeats, an admin should open Details and check the record "
        "in both apps (see {page})."
    ),
    "hint.fallback": _(
        "Re-sync the record; if it repeats, an admin should open Details and check both apps."
    ),
    # Microsoft Entra sign-in refusals: what the code means, and what to do.
    "aadsts.secret_wrong": _("the client secret is wrong"),
    "aadsts.secret_expired": _("the client secret has expired"),
    "aadsts.no_app": _("no app registration with this client id exists in the tenant"),
    "aadsts.no_consent": _("the app registration has not been granted admin consent"),
    "aadsts.no_tenant": _("the tenant was not found"),
    "aadsts.not_in_tenant": _("the app is not available in this tenant"),
    "aadsts.no_resource": _("the resource (API) was not found in the tenant"),
    "aadsts.app_disabled": _("the app registration is disabled"),
    "aadsts.assertion_time": _("the client assertion is not within its valid time range"),
    "aadsts.password_expired": _("a user account's password has expired"),
    "aadsts.password_refused": _("a user name or password was refused"),
    "aadsts.locked": _("a user account is locked after too many failed sign-ins"),
    "aadsts.no_account": _("the account does not exist in this directory"),
    "aadsts.mfa": _("multi-factor authentication is required for a user sign-in"),
    "aadsts.mfa_registration": _("multi-factor authentication registration is required for a user sign-in"),
    "aadsts.account_disabled": _("the account is disabled"),
    "advice.copy_secret": _(
        "An admin must copy the secret's Value (not its Secret ID) from the app registration's Certificates "
        "& secrets in Microsoft Entra into AZURE_CLIENT_SECRET"
    ),
    "advice.new_secret": _(
        "An admin must add a new client secret to the app registration (Certificates & secrets) in "
        "Microsoft Entra and put its Value in AZURE_CLIENT_SECRET"
    ),
    "advice.check_client_id": _(
        "An admin must check AZURE_CLIENT_ID (the app registration's Application (client) ID) and "
        "AZURE_TENANT_ID"
    ),
    "advice.grant_consent": _(
        "An admin must grant admin consent to the app registration's API permissions (Dynamics CRM "
        "user_impersonation, Dynamics 365 Business Central API.ReadWrite.All) in Microsoft Entra"
    ),
    "advice.check_tenant": _(
        "An admin must check AZURE_TENANT_ID (the directory (tenant) ID, or AUTH_TOKEN_URL)"
    ),
    "advice.multi_tenant": _(
        "An admin must check AZURE_TENANT_ID, or register the app as multi-tenant and consent to it here"
    ),
    "advice.check_api": _(
        "An admin must check BC_API_URL / DATAVERSE_URL and that the app has permissions on that API"
    ),
    "advice.enable_app": _(
        "An admin must enable the app registration's enterprise application in Microsoft Entra"
    ),
    "advice.check_clock": _(
        "An admin must check the server clock and the certificate of the app registration"
    ),
    "advice.sign_in_as_app": _(
        "The bot signs in as an app, not as a user: an admin must set AZURE_CLIENT_ID and "
        "AZURE_CLIENT_SECRET to the app registration's client id and secret"
    ),
    "advice.no_mfa": _(
        "The bot signs in as an app (no MFA applies): an admin must set AZURE_CLIENT_ID and "
        "AZURE_CLIENT_SECRET to the app registration's client id and secret"
    ),
    "advice.check_ids": _(
        "An admin must check AZURE_CLIENT_ID and AZURE_TENANT_ID against the app registration"
    ),
    # ---- results of actions (bot.sync.actions) -------------------------------------------------------
    "action.reason": _("{reason}"),
    "action.and": _("{first} {then}"),
    "term.earlier": _("earlier"),
    "term.table_filter": _("its table filter"),
    "action.not_found": _("{record} does not exist in {app}."),
    "action.rerun_failed": _("The re-run of {mapping} failed: {reason}"),
    "action.resynced": _("Re-synchronized."),
    "action.source_gone": _("The source record {record} no longer exists."),
    "action.resynced_failed": _n(
        "Re-synchronized {succeeded} of {n} record; {failed} failed.",
        "Re-synchronized {succeeded} of {n} records; {failed} failed.",
    ),
    "action.bc_first": _("Give the Business Central record first, then the Dataverse row."),
    "action.not_same_mapping": _(
        "{bc} and {dataverse} are not in the same mapping ({bc_mapping}, {dataverse_mapping})."
    ),
    "action.were_coupled": _("{bc} and {dataverse} were already coupled."),
    "action.already_coupled_pair": _(
        "{bc} and {dataverse} are already coupled to each other; nothing changed (pending changes stay and "
        "sync on the next run). To take one side's values now, add --sync bc or --sync dataverse."
    ),
    "action.dataverse_taken": _(
        "Cannot couple {bc} to this Dataverse record, because the Dataverse record is already coupled to "
        "{other}. Remove that coupling first (uncouple)."
    ),
    "action.bc_taken": _(
        "Cannot couple {bc} to {dataverse}, because {bc} is already coupled to {other}. Remove that "
        "coupling first (uncouple)."
    ),
    "action.coupled": _("Coupled {bc} to {dataverse}."),
    "action.sync_after_failed": _("The synchronization after coupling failed."),
    "action.synced_from": _("Synchronized with the {app} data."),
    "action.already_coupled_create": _(
        "{record} is already coupled; uncouple it first to create a new partner."
    ),
    "action.no_flow_create": _(
        "{mapping} does not synchronize from {app}, so it cannot create a partner there."
    ),
    "action.create_failed": _("Creating the partner of {record} failed: {reason}"),
    "action.created": _("Created the partner of {record} in {app} and coupled them."),
    "action.unknown_mapping": _("Unknown mapping {mapping}."),
    "action.read_failed": _("Reading the records failed: {reason}"),
    "action.matched": _(
        "Coupled {coupled}; no match {no_match}; several matches {several_matches}; match already coupled "
        "{already_coupled}."
    ),
    "action.not_coupled": _("{record} is not coupled; there is no coupling to remove."),
    "action.uncoupled": _("Uncoupled {record}."),
    "action.no_flow_restore": _(
        "{mapping} does not synchronize from {app}, so the record cannot be restored from there; delete the "
        "surviving record or remove the coupling instead."
    ),
    "action.restored": _("Restored the deleted record."),
    "action.deleted": _("Deleted {record}."),
    "action.coupling_stays": _(
        "Both coupled records exist (checked just now in Business Central and Dataverse), so the coupling "
        "is not broken and stays; Re-sync the record instead."
    ),
    "action.no_dependency": _(
        "Error #{id} does not name a dependency to couple; Re-sync it or open its details."
    ),
    "action.no_flow_recreate": _(
        "{mapping} does not synchronize from {app}, so {record} cannot be re-created in {other} from here; "
        "create it there and couple it."
    ),
    "action.recreate_failed": _("Re-creating {record} in {app} failed: {reason}"),
    "action.recreated": _("Re-created {record} in {app}."),
    "action.coupled_by_match": _("Coupled {record} by match."),
    "action.no_match": _("No match for {record} in {app}."),
    "action.create_dependency_failed": _("Creating {record} in {app} failed."),
    "action.created_coupled": _("Created and coupled {record} in {app}."),
    "action.unknown_side": _("Unknown side {side}; use business_central or dataverse."),
    "action.not_a_conflict": _(
        "Keeping one side's values applies only to an update conflict (changed in both apps); error #{id} "
        "is {category}, so nothing changed. Re-sync it instead."
    ),
    "action.no_conflict": _("{record} is not coupled, so there is no conflict to settle."),
    "action.no_flow": _("{mapping} does not synchronize from {app}."),
    "action.kept": _("Kept the {app} values."),
    "action.no_error": _("There is no error #{id} (it may have been purged); see `list`."),
    "action.already_resolved": _(
        "Error #{id} was already resolved by {user} at {when}; nothing changed. If the record fails again, "
        "its error reopens."
    ),
    "action.no_deleted_partner": _(
        "{record} is not coupled, so there is no deleted partner to restore or delete; Re-sync it instead."
    ),
    "action.both_exist": _(
        "Both coupled records exist (checked just now in Business Central and Dataverse); nothing to "
        "restore or delete. Re-sync the record instead."
    ),
    "action.both_gone": _("Both coupled records are gone; remove the coupling instead."),
    "action.still_failing": _("Still failing: {reason}"),
    "action.outside_filter": _(
        "{record} is outside {mapping}'s filter ({filter}): it cannot be coupled there."
    ),
    # ---- why an operation refused (bot.operations; OperationError carries the phrase) --------------------
    "failure.no_entry": _("There is no error entry #{id} (it may have been purged)."),
    "failure.snooze_resolved": _(
        "Error #{id} is resolved, so there is nothing to snooze; nothing changed. "
        "Snooze applies to open errors."
    ),
    "failure.no_setting": _("There is no setting {setting}. Settings: {settings}."),
    "failure.interval": _("interval: {reason}"),
    "failure.true_false": _("{key} is true or false, not {value}."),
    "failure.only_runs": _("{mapping} only runs {direction}, not {value}."),
    "failure.one_of": _("{key} is {accepts}, not {value}."),
    "failure.not_which_record_couple": _(
        "Error #{id} does not say which record failed, so it cannot be coupled here."
    ),
    "failure.not_which_record_create": _(
        "Error #{id} does not say which record failed, so nothing can be created."
    ),
    "failure.give_record": _("Give the {app} record to couple with (like {example})."),
    "failure.no_candidate": _("Error #{id} has no candidate {number} to couple with."),
    "failure.interval_too_short": _(
        "The interval must be between 1 minute and 7 days; {duration} is too short."
    ),
    "failure.interval_too_long": _(
        "The interval must be between 1 minute and 7 days; {duration} is too long."
    ),
    "failure.whole_minutes": _("The interval must be whole minutes (e.g. 15m, 2h, 1d); {duration} is not."),
    "failure.no_mapping": _("There is no mapping named {name}. Known mappings: {known}."),
    "failure.no_job": _("There is no scheduled job named {name}. Jobs: {jobs}, or a mapping."),
    "failure.not_allowed": _("Only sync admins may do {action}."),
    "term.none_yet": _("none yet"),
    "term.days": _n("{n} day", "{n} days"),
    "term.hours": _n("{n} hour", "{n} hours"),
    "term.minutes": _n("{n} minute", "{n} minutes"),
    "term.seconds": _n("{n} second", "{n} seconds"),
    # ---- the doctor's findings and fixes (bot.doctor; CheckResult.found / fixed_by) -------------------
    "check.bc-sign-in": _("Sign-in to Business Central"),
    "check.dataverse-sign-in": _("Sign-in to Dataverse"),
    "check.bc-api": _("Business Central API and company"),
    "check.dataverse-api": _("Dataverse API (not in administration mode)"),
    "check.integration-user-not-admin": _("Integration user is not a System Administrator"),
    "check.integration-user-role": _("Integration user holds the integration role"),
    "check.integration-user-privileges": _("Integration user holds the privileges the mappings need"),
    "check.integration-user-enabled": _("Integration user is enabled"),
    "check.integration-user-non-interactive": _("Integration user is non-interactive"),
    "check.currencies": _("Customers' currencies are coupled and have exchange rates"),
    "check.mapping-dependencies": _("Mapping dependencies are enabled"),
    "check.throttling": _("No throttling"),
    "check.skipped-couplings": _("No coupling is Skipped"),
    "term.semicolons": _("{first}; {rest}"),
    "term.comma": _("{first}, {rest}"),
    "access_mode.read_write": _("Read-Write"),
    "access_mode.administrative": _("Administrative"),
    "access_mode.read": _("Read"),
    "access_mode.support_user": _("Support User"),
    "access_mode.non_interactive": _("Non-interactive"),
    "access_mode.delegated_admin": _("Delegated Admin"),
    "term.and": _("{first} and {rest}"),
    "doctor.blocked": _("Not checked: '{title}' failed."),
    "doctor.blocked_fix": _("Fix '{title}' first, then run the doctor again."),
    "doctor.failed": _("{what}: {message}{more}"),
    "doctor.bc_sign_in_refused": _("Sign-in for Business Central refused"),
    "doctor.dataverse_sign_in_refused": _("Sign-in for Dataverse refused"),
    "doctor.token": _("Got a token for {scope}."),
    "doctor.no_dataverse_url": _("DATAVERSE_URL is not set."),
    "doctor.no_dataverse_url_fix": _("Set DATAVERSE_URL to the environment URL."),
    "doctor.bc_api_refused": _("Business Central API refused the company list"),
    "doctor.no_company": _("Business Central answered, but the environment has no company."),
    "doctor.no_company_fix": _(
        "An admin must create a company, or point BC_API_URL at the right environment."
    ),
    "doctor.wrong_company": _("No company with id {id} (BC_COMPANY_ID). The environment has: {listed}."),
    "doctor.wrong_company_fix": _(
        "Set BC_COMPANY_ID to one of the listed company ids, or unset it to use the first company."
    ),
    "doctor.company": _("Company '{name}' ({id}) found."),
    "doctor.company_among": _("Company '{name}' ({id}) found among {n} companies."),
    "doctor.who_am_i_refused": _("Dataverse refused WhoAmI"),
    "doctor.who_am_i": _(
        "Dataverse answered WhoAmI: user {user}, organization {organization}; not in administration mode."
    ),
    "doctor.throttled": _("Throttled (HTTP 429) during: {where}. {message}"),
    "doctor.throttled_wait": _("Throttled (HTTP 429) during: {where}. {message} Retry after {seconds} s."),
    "doctor.no_answer": _("Not checked: neither API answered."),
    "doctor.no_answer_fix": _("Fix the sign-in and API checks first."),
    "doctor.not_throttled": _("No API answered 429 (service protection limits) during the checks."),
    "doctor.no_user": _("Not checked: WhoAmI gave no user."),
    "doctor.run_again": _("Run the doctor again."),
    "doctor.user_unreadable": _("Could not read the integration user {user}"),
    "doctor.not_admin": _("{user} does not have the System Administrator role."),
    "doctor.holds_role": _("{user} holds the role {role}."),
    "doctor.no_roles": _("no roles"),
    "doctor.lacks_role": _(
        "User {user} does not have the required roles on server {server} (has: {roles}). You must choose a "
        "user that has the role {role}."
    ),
    "doctor.lacks_role_fix": _(
        "An admin must give {user} the {role} security role in Dataverse (Business Central's Redeploy "
        "Integration Solution recreates the role if it is missing)."
    ),
    "doctor.disabled": _("User {user} is disabled on server {server}."),
    "doctor.disabled_fix": _(
        "An admin must enable the application user {user} in the Power Platform admin centre ({url}, "
        "environment > Settings > Application users)."
    ),
    "doctor.enabled": _("{user} is enabled."),
    "doctor.access_mode": _(
        "User {user} has invalid access mode {mode} on server {server}. Valid access mode is Non-Interactive."
    ),
    "doctor.access_mode_fix": _(
        "An admin must use an application user (created for AZURE_CLIENT_ID in the Power Platform admin "
        "centre, {url}) or set the access mode of {user} to Non-interactive."
    ),
    "doctor.has_access_mode": _("{user} has access mode {mode}."),
    "doctor.no_database": _("Not checked: the bot's database was not given."),
    "doctor.no_database_fix": _("Run the doctor where the bot's database is reachable (DATABASE_URL)."),
    "doctor.none_skipped": _("No coupling is Skipped."),
    "doctor.and_more": _("{listed} and {more} more"),
    "doctor.skipped": _n(
        "{n} coupling Skipped after failing the same way twice, so scheduled runs leave it out: {listed}.",
        "{n} couplings Skipped after failing the same way twice, so scheduled runs leave them out: {listed}.",
    ),
    "doctor.skipped_fix": _(
        "Fix the cause each error names, then Re-sync them (`sync-errors list --skipped`, `sync-errors "
        "resync --failed`), or remove the couplings that are no longer wanted."
    ),
    "doctor.skipped_fix_page": _(
        "Fix the cause each error names, then Re-sync them (`sync-errors list --skipped`, `sync-errors "
        "resync --failed`), or remove the couplings that are no longer wanted (Business Central shows them "
        "on Coupled Data Synchronization Errors, {page})."
    ),
    "doctor.no_mappings_given": _("Not checked: no store and no mappings were given."),
    "doctor.no_mappings": _("No mappings are configured yet."),
    "doctor.dependencies_enabled": _("{n} enabled mappings; every dependency is enabled."),
    "doctor.depends_missing": _("{mapping} depends on {dependency}, which does not exist"),
    "doctor.depends_disabled": _("{mapping} depends on {dependency}, which is disabled"),
    "doctor.depends_paused": _("{mapping} depends on {dependency}, which is paused"),
    "doctor.create_mapping": _("create the {dependency} mapping or remove it from {mapping}'s dependencies"),
    "doctor.enable_mapping": _("enable {mapping}"),
    "doctor.resume_mapping": _("resume {mapping} (`sync-errors resume {mapping}`)"),
    "doctor.sentence": _("{text}."),
    "doctor.dependencies_fix": _("An admin must {fixes}, so records find their dependencies coupled."),
    "doctor.dependencies_fix_page": _(
        "An admin must {fixes} (compare Integration Table Mappings, {page}), so records find their "
        "dependencies coupled."
    ),
    "doctor.no_privilege_needed": _("No mapping is enabled, so no privilege is needed yet."),
    "doctor.privileges_unreadable": _("Could not read the privileges of {user}"),
    "doctor.default_mappings": _(" (no store: checked against the default mappings)"),
    "doctor.gap": _("{privileges} ({table}, for {mappings})"),
    "doctor.lacks_privileges": _(
        "User {user} lacks {n} of the {needed} privileges the enabled mappings need{note}: {gaps}. Until it "
        "has them, syncing these tables fails with 'is missing … privilege' (0x80040220)."
    ),
    "doctor.lacks_privileges_fix": _(
        "An admin must add {privileges} to a security role of {user} in Dataverse (the {role} role has "
        "them; Business Central's Redeploy Integration Solution restores it), then run the doctor again."
    ),
    "doctor.holds_privileges": _(
        "{user} holds the {n} privileges the enabled mappings need{note} on {tables}."
    ),
    "doctor.local_currency": _("Customers use only the local currency."),
    "doctor.check_failed": _("The check itself failed"),
    "doctor.on_page": _("{fix} ({page})"),
    "doctor.no_bc_currency": _("customers use {codes}, which Business Central has no currency for"),
    "doctor.create_currency": _("create {codes} on the Currencies page"),
    "doctor.no_bc_rate": _("no exchange rate for {codes} in Business Central"),
    "doctor.add_rate": _("add an exchange rate for {codes} on the Currencies page"),
    "doctor.couplings_not_checked": _("couplings not checked (no store)"),
    "doctor.none_coupled_yet": _(
        "no currency is coupled yet; the {mapping} mapping couples them on its first run"
    ),
    "doctor.not_coupled": _("{codes} not coupled to a Dataverse currency"),
    "doctor.run_currency_mapping": _("run (and enable) the {mapping} mapping or couple {codes} by hand"),
    "doctor.dataverse_currencies_unread": _("Dataverse currencies not read ({reason})"),
    "doctor.no_dataverse_rate": _("Dataverse currency {codes} has no exchange rate"),
    "doctor.set_dataverse_rate": _("set the exchange rate of {codes} in Dataverse (Settings > Currencies)"),
    "doctor.note": _(" Note: {notes}."),
    "doctor.currency_problems": _("Customers use {codes}: {problems}.{tail}"),
    "doctor.currency_fix": _("An admin must {fixes}, then Re-sync the customers that failed."),
    "doctor.currencies_coupled": _("Customers use {codes}: each has an exchange rate and is coupled.{tail}"),
    "doctor.currencies_rated": _("Customers use {codes}: each has an exchange rate.{tail}"),
    "doctor.currencies_unreadable": _("Could not read customers, currencies or exchange rates"),
    # ---- the worker's outcomes (bot.worker) ----------------------------------------------------------
    "work.done": _("done"),
    "work.failed": _("failed"),
    "work.nothing_to_sync": _("nothing to synchronize: no enabled, unpaused mapping"),
    "work.synchronized": _("synchronized {mappings}"),
    "work.synchronized_failed": _n(
        "synchronized {mappings} ({n} record failed)", "synchronized {mappings} ({n} records failed)"
    ),
    "work.kept_throttling": _("the business app kept throttling: {reason}"),
    "work.throttled": _("throttled: {reason}"),
    "work.unexpected": _("unexpected failure ({kind}); see the bot's log"),
    "work.already_resolved": _("nothing to do: error #{id} is already resolved"),
    "work.gave_up": _("gave up after {n} attempts"),
    "work.no_longer_admin": _("only sync admins may do this, and the requester no longer is one"),
    "work.unknown_kind": _("this bot does not know how to do “{kind}”"),
    # ---- how an error was resolved (the stored resolution's English is its key; see RESOLUTIONS) -------
    "resolution.by": _("{how} by {user}"),
    "resolution.scheduled": _("Synchronized by the scheduled run"),
    "resolution.asked": _("Synchronized by a run someone asked for"),
    "resolution.terminal": _("Synchronized by a run from the terminal"),
    "resolution.later_run": _("Synchronized on a later run"),
    "resolution.preflight": _("The sign-in and the integration user's check passed"),
    "resolution.find_deleted_restored": _("Restored the deleted record (find deleted)"),
    "resolution.find_deleted_uncoupled": _("Removed the coupling of a deleted record (find deleted)"),
    "resolution.find_deleted_both_gone": _("Both records were deleted; removed the coupling (find deleted)"),
    "resolution.resynced": _("Re-synchronized"),
    "resolution.reran": _("Re-ran the mapping"),
    "resolution.restored": _("Restored the deleted record"),
    "resolution.deleted": _("Deleted the surviving record"),
    "resolution.uncoupled": _("Removed the coupling"),
    "resolution.kept_bc": _("Kept the Business Central values"),
    "resolution.kept_dataverse": _("Kept the Dataverse values"),
    # ---- the classifier's messages, in Business Central's words (bot.sync.classify) --------------------
    "said.admin_user": _(
        "User {user} has the System Administrator role on server {server}. You must choose a user that does "
        "not have the System Administrator role."
    ),
    "said.no_exchange_rate": _(
        "Cannot create or update the currency {code} in {app}, because there is no exchange rate defined "
        "for it."
    ),
    "said.coupled_to_deleted": _(
        "The {table} record cannot be updated because it is coupled to a deleted record."
    ),
    "said.must_be_coupled": _("{field} {record} must be coupled to a record in {app}."),
    "said.update_conflict": _(
        "Cannot update a record in the {dest} table. The mapping between {source_field} field on the "
        "{source} table and the {dest_field} field on the {dest} table is bi-directional, and one or both "
        "values have changed since the last synchronization."
    ),
    "said.no_business_relation": _(
        "The contact {contact} must have a contact company that has a business relation to a customer."
    ),
    "said.company_missing": _("The contact cannot be synchronized because the company does not exist."),
    "said.several_matches": _(
        "{count} {table} records match ({criteria}); nothing was created. Couple the right one: {listed}."
    ),
    "said.this_records": _("this record's {field}"),
    "said.this_record": _("this record"),
    "said.missing_key": _("{record} {key} does not exist in {app}, and {refers} refers to it."),
    "said.missing": _("The {record} {refers} refers to does not exist in {app}."),
    # ---- the terminal's own sentences (bot.cli) -------------------------------------------------------
    "cli.no_errors": _("No errors."),
    "cli.no_open_errors": _("No open errors."),
    "cli.no_resolved_errors": _("No resolved errors."),
    "cli.no_snoozed_errors": _("No snoozed errors."),
    "cli.list_caption": _("Times in UTC. `sync-errors show ID` prints one error in full."),
    "cli.no_skipped": _("No coupling is Skipped."),
    "cli.skipped_count": _n(
        "{count} Skipped coupling (Coupled Data Synchronization Errors): left out of scheduled runs until "
        "re-synced.",
        "{count} Skipped couplings (Coupled Data Synchronization Errors): left out of scheduled runs until "
        "re-synced.",
    ),
    "cli.entry_deleted": _("(entry deleted)"),
    "cli.showing": _("Showing {shown} of {total}; add --limit N for more."),
    "cli.seen": _("{count}× · first {first} UTC · last {last} UTC"),
    "cli.resolved_by": _("by {who}: {how}"),
    "cli.purge_either": _("give either --older-than DURATION or --all"),
    "cli.nothing_to_delete": _("Nothing to delete: there are no error entries."),
    "cli.nothing_to_delete_older": _("Nothing to delete: there are no error entries not seen for {age}."),
    "cli.purge_question": _n(
        "Delete {count} error entry? This cannot be undone.",
        "Delete {count} error entries? This cannot be undone.",
    ),
    "cli.purge_question_older": _n(
        "Delete {count} error entry not seen for {age}? This cannot be undone.",
        "Delete {count} error entries not seen for {age}? This cannot be undone.",
    ),
    "cli.purging": _n("deleting {count} error entry", "deleting {count} error entries"),
    "cli.purging_older": _n(
        "deleting {count} error entry not seen for {age}", "deleting {count} error entries not seen for {age}"
    ),
    "cli.deleting": _("Deleting"),
    "cli.deleted": _n("Deleted {count} error entry.", "Deleted {count} error entries."),
    "cli.stayed": _n(
        "{count} of the {total} counted was seen again since the count (or already deleted) and stayed.",
        "{count} of the {total} counted were seen again since the count (or already deleted) and stayed.",
    ),
    "cli.snoozed": _("Snoozed #{id}."),
    "cli.snoozed_until": _("Snoozed #{id} until {until} UTC."),
    "cli.no_actions": _("No actions recorded."),
    "cli.no_actions_for": _("No actions recorded for #{id}."),
    "cli.unknown_status": _("unknown status {status}; use open, resolved, snoozed or all"),
    "cli.unknown_category": _("there is no category {category}; known categories: {known}"),
    "cli.skipped_alone": _("--skipped lists couplings; give it alone or with --mapping"),
    "cli.needs_yes": _("nothing changed: {what} needs a yes; answer the prompt at a terminal or add --yes."),
    "cli.not_confirmed": _("nothing changed: you did not confirm {what}."),
    "cli.configuration": _("configuration: {problem}"),
    "cli.database_url": _("configuration: DATABASE_URL cannot be used; use {databases}"),
    "cli.no_database": _("cannot use the database: {reason}"),
    "cli.no_reach": _("cannot reach {host}: {reason}"),
    "cli.the_service": _("the service"),
    "cli.never": _("never"),
    "cli.full_or_find_deleted": _("give --full or --find-deleted, not both"),
    "cli.nothing_to_sync": _("No mapping to synchronize (all disabled or paused)."),
    "cli.records_failed": _n(
        "{count} record(s) failed; see `sync-errors list`.",
        "{count} record(s) failed; see `sync-errors list`.",
    ),
    "cli.records_failed_because": _n(
        "{count} record(s) failed: {reason}", "{count} record(s) failed: {reason}"
    ),
    "cli.not_every_mapping_ran": _("Not every mapping ran."),
    "cli.find_deleted_stopped": _("find deleted stopped at {mapping}: {reason}"),
    "cli.jobs_caption": _("Times in UTC. Counters: only those above 0."),
    "cli.no_jobs": _("No synchronization jobs yet. Run `sync-errors sync`."),
    "cli.now_syncs_every": _("{mapping} now syncs every {every}."),
    "cli.paused": _("{name} is paused; `sync-errors resume {name}` starts it again."),
    "cli.resumed_fixed": _("{name} is scheduled again (the running scheduler applies it within 30 s)."),
    "cli.resumed": _("{name} is scheduled again."),
    "cli.every": _("every {interval}"),
    "cli.help_lists": _("`sync-errors help` lists the commands"),
    "cli.lang_choices": _("--lang takes one of {choices}, not {given}."),
    "cli.socket_or_http": _("choose --socket or --http, not both"),
    "cli.no_slack": _("cannot reach Slack at {where}: {reason}; check the network and SLACK_API_URL."),
    "cli.set_slack": _("set {what}: see README, Connecting Slack."),
    "cli.db_up_to_date": _("The database is up to date (migration {migration})."),
    "cli.db_upgraded": _("Upgraded the database from empty to migration {migration}."),
    "cli.db_upgraded_from": _("Upgraded the database from {before} to migration {migration}."),
    "cli.write_mappings_set": _("write it as: mappings MAPPING set SETTING VALUE"),
    "cli.write_schedule_every": _("write it as: schedule MAPPING every DURATION"),
    "cli.no_setting": _("there is no setting {setting}; settings: {choices}"),
    "cli.setting_now": _("{mapping}: {setting} is now {value}."),
    "cli.mappings_caption": _("Change one: `sync-errors mappings CUSTOMER set update_conflict bc`."),
    "cli.no_mapping": _("there is no mapping {name}; known mappings: {known}"),
    "cli.notifications_delivered": _n(
        "{count} notification(s) delivered.", "{count} notification(s) delivered."
    ),
    "cli.snoozed_woke": _n("{count} snoozed error(s) woke up.", "{count} snoozed error(s) woke up."),
    "cli.work_ran": _n("{count} queued work item(s) ran.", "{count} queued work item(s) ran."),
    "cli.cleaned_up": _("deleted {errors} error entries and {jobs} job-log entries older than {days} days."),
    "cli.summary_needs_channel": _("the daily summary needs SLACK_CHANNEL (the channel it is posted to)."),
    "cli.summary_queued": _("the summary is queued for the channel (the outbox delivers it)."),
    "cli.outbox_needs_token": _(
        "delivering the outbox needs SLACK_BOT_TOKEN (see README, Connecting Slack)."
    ),
    "cli.only_coupled_note": _(
        "Synch. Only Coupled Records: {mappings} (new records are not created; "
        "`sync-errors mappings NAME set sync_only_coupled false` lets them flow)."
    ),
    "cli.ask_couple_overwrite": _(
        "Couple {bc_ref} and {dataverse_ref}, then overwrite {loser}'s values with {winner}'s?"
    ),
    "cli.what_overwrite": _("overwriting {loser}'s values"),
    "cli.ask_uncouple": _("Uncouple {ref}? Both records stay but stop synchronizing."),
    "cli.what_uncouple": _("uncoupling {ref}"),
    "cli.ask_restore": _("Recreate the deleted side of #{error_id} ({label}) from the surviving record?"),
    "cli.what_restore": _("restoring the record of #{error_id}"),
    "cli.ask_delete_record": _(
        "Delete the surviving record of #{error_id} ({label}) and its coupling? This cannot be undone."
    ),
    "cli.what_delete_record": _("deleting the surviving record of #{error_id}"),
    "cli.ask_keep": _("Overwrite {loser}'s values of #{error_id} ({label}) with {winner}'s?"),
    "cli.resync_needs_ids": _("give error ids, or --failed [--mapping M]"),
    "cli.create_takes_one": _("--create takes one record: couple REF --create"),
    "cli.two_refs_or_match": _("give either two references or --match MAPPING"),
    "cli.bc_and_dv_ref": _("give a Business Central and a Dataverse reference"),
    "cli.sync_choice": _("--sync must be none, bc or dataverse, not {value}"),
    "cli.keep_side": _("say whose values win: bc or dataverse, not {value}"),
    "cli.schedule_caption": _(
        "Times in UTC. `sync-errors pause|resume|run JOB` (a mapping's name for its sync)."
    ),
    "cli.schedule_caption_unreported": _(
        "Times in UTC. `sync-errors pause|resume|run JOB` (a mapping's name for its sync). No scheduling "
        "process (serve, clock or demo) has reported in the last 2 minutes: next runs are computed from the "
        "settings."
    ),
}

# A stored resolution (SyncError.resolution) is the English of one of these, maybe followed by " by ACTOR".
RESOLUTIONS: dict[str, str] = {
    str(PHRASES[key]): key for key in PHRASES if key.startswith("resolution.") and key != "resolution.by"
}


def resolution_phrase(text: str) -> Phrase | None:
    """The phrase of a stored resolution ("Re-synchronized by U1"), None when it is not one of ours."""
    if text in RESOLUTIONS:
        return say(RESOLUTIONS[text])
    how, _by, actor = text.rpartition(" by ")
    if how in RESOLUTIONS and actor:
        return say("resolution.by", how=say(RESOLUTIONS[how]), user=actor)
    return None


def render(
    phrase: Phrase,
    locale: str | None = "en",
    *,
    escape: Callable[[str], str] = str,
    make_link: Callable[[str, str], str] | None = None,
) -> str:
    """The words of `phrase` in `locale`; `escape` applies to the values, `make_link(url, label)` to links."""
    return _Renderer(locale, escape, make_link).words(phrase)


def english(phrase: Phrase) -> str:
    """The words of `phrase` in English, plain text (links as "label (url)")."""
    return render(phrase, "en")


class _Renderer:
    def __init__(
        self, locale: str | None, escape: Callable[[str], str], make_link: Callable[[str, str], str] | None
    ) -> None:
        translations = gettext_for(locale)
        self._ = translations.gettext
        self._n = translations.ngettext
        self.english = normalize_locale(locale) == DEFAULT_LOCALE
        self.escape = escape
        self.make_link = make_link

    def words(self, phrase: Phrase) -> str:
        values = phrase.values
        if phrase.key == LINK:
            label, url = self.value(values.get("label", "")), str(values.get("url") or "")
            if not url:
                return label
            return self.make_link(url, label) if self.make_link else f"{label} ({url})"
        if phrase.key == APP:
            system = str(values.get("system") or "")
            return self.escape(SYSTEM_NAMES.get(system) or system) if system else self._(_BUSINESS_APP)
        if phrase.key in (NOUN, CAPTION):
            return self.table(str(values.get("table") or ""), capital=phrase.key == CAPTION)
        template = PHRASES[phrase.key]
        fields = {name: self.value(value) for name, value in values.items()}
        if isinstance(template, tuple):
            count = values.get("n", 0)
            text = self._n(template[0], template[1], int(count) if isinstance(count, int | float) else 0)
        else:
            text = self._(template)
        return text.format(**fields)

    def value(self, value: Value) -> str:
        if isinstance(value, Phrase):
            return self.words(value)
        return self.escape(str(value))

    def table(self, table: str, *, capital: bool) -> str:
        english = table_caption(table)
        known = _NOUNS.get(english)
        if self.english or known is None:
            return self.escape(english if capital else english.lower())
        words = self._(known)
        return self.escape(words[:1].upper() + words[1:] if capital else words)


_BUSINESS_APP = "the business app"  # the msgid of "term.business_app"
