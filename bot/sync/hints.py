"""What to do about a classified error, and who must do it: short plain-text hints with inline links."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.phrases import (
    ENTRA_APP_REGISTRATIONS_URL,
    Phrase,
    Value,
    app,
    caption,
    english,
    link,
    noun,
    say,
)
from bot.phrases import INTEGRATION_ROLE as INTEGRATION_ROLE
from bot.phrases import POWER_PLATFORM_ADMIN_URL as POWER_PLATFORM_ADMIN_URL
from bot.phrases import table_caption as table_caption
from storage.models import Category

# Business Central web-client page ids (reference §7, "Deep links").
PAGE_CURRENCIES = 5
PAGE_COUPLED_DATA_ERRORS = 5333
PAGE_TABLE_MAPPINGS = 5335
PAGE_SYNC_JOBS = 5338
PAGE_SYNC_ERRORS = 5339

SYSTEM_ADMINISTRATOR_ROLE = "System Administrator"

# Microsoft Entra sign-in refusals (reference §6, "Sign-in errors"): code -> (meaning, what to do), as keys
# of bot.phrases. The bot signs in with client credentials (an Entra app registration and its secret);
# the codes of user sign-ins are only seen when a user name and password were configured somewhere.
AADSTS_PHRASES: dict[str, tuple[str, str]] = {
    "AADSTS7000215": ("aadsts.secret_wrong", "advice.copy_secret"),
    "AADSTS7000222": ("aadsts.secret_expired", "advice.new_secret"),
    "AADSTS700016": ("aadsts.no_app", "advice.check_client_id"),
    "AADSTS65001": ("aadsts.no_consent", "advice.grant_consent"),
    "AADSTS90002": ("aadsts.no_tenant", "advice.check_tenant"),
    "AADSTS90072": ("aadsts.not_in_tenant", "advice.multi_tenant"),
    "AADSTS500011": ("aadsts.no_resource", "advice.check_api"),
    "AADSTS7000112": ("aadsts.app_disabled", "advice.enable_app"),
    "AADSTS700024": ("aadsts.assertion_time", "advice.check_clock"),
    "AADSTS50055": ("aadsts.password_expired", "advice.sign_in_as_app"),
    "AADSTS50126": ("aadsts.password_refused", "advice.sign_in_as_app"),
    "AADSTS50053": ("aadsts.locked", "advice.sign_in_as_app"),
    "AADSTS50034": ("aadsts.no_account", "advice.check_ids"),
    "AADSTS50076": ("aadsts.mfa", "advice.no_mfa"),
    "AADSTS50079": ("aadsts.mfa_registration", "advice.no_mfa"),
    "AADSTS50057": ("aadsts.account_disabled", "advice.enable_app"),
}
# The same in English words (the classifier's message, the doctor).
AADSTS_MEANINGS: dict[str, tuple[str, str]] = {
    code: (english(say(meaning)), english(say(advice))) for code, (meaning, advice) in AADSTS_PHRASES.items()
}

_SYSTEM_LABELS = {"business_central": "Business Central", "dataverse": "Dataverse", "auth": "Microsoft Entra"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


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


_PRIVILEGE = re.compile(r"prv(Create|Read|Write|Delete|AppendTo|Append|Assign|Share)(\w+)")


def privilege_words(privilege: str) -> str:
    """A privilege with its action and table in words, e.g. "prvCreateAccount (Create on Account)"."""
    words = privilege_phrase(privilege)
    return english(words) if isinstance(words, Phrase) else str(words)


def privilege_phrase(privilege: str) -> Value:
    """A privilege with its action and table, as a phrase worded in the reader's language."""
    return _privilege(privilege)


def _privilege(privilege: str) -> Value:
    match = _PRIVILEGE.fullmatch(privilege)
    if not match:
        return privilege
    return say(
        "term.privilege", privilege=privilege, action=say(f"privilege.{match.group(1)}"), table=match.group(2)
    )


def _integration_user(facts: Mapping[str, Any], links: Links) -> Phrase:
    return link(say("term.integration_user"), links.dataverse_user(facts.get("user_id")))


def _permissions(facts: Mapping[str, Any], links: Links) -> Phrase:
    if facts.get("system") == "business_central":
        return say("hint.permissions.bc")
    privilege = facts.get("privilege")
    user = _integration_user(facts, links)
    if privilege:
        return say(
            "hint.permissions.privilege",
            privilege=_privilege(str(privilege)),
            user=user,
            role=INTEGRATION_ROLE,
        )
    return say("hint.permissions.dataverse", user=user, role=INTEGRATION_ROLE)


def _admin_user(facts: Mapping[str, Any], links: Links) -> Phrase:
    name = facts.get("user_name")
    user = link(
        str(name) if name else say("term.integration_user"), links.dataverse_user(facts.get("user_id"))
    )
    return say(
        "hint.admin_user", admin_role=say("term.system_administrator"), user=user, role=INTEGRATION_ROLE
    )


def _credentials(facts: Mapping[str, Any], _links: Links) -> Phrase:
    code = facts.get("aadsts")
    entry = AADSTS_PHRASES.get(_normalise_aadsts(str(code))) if code else None
    if entry:
        return say(
            "hint.credentials.code",
            code=_normalise_aadsts(str(code)),
            meaning=say(entry[0]),
            advice=say(entry[1]),
        )
    if facts.get("system") == "business_central":
        return say("hint.credentials.bc", url=ENTRA_APP_REGISTRATIONS_URL)
    if facts.get("system") == "dataverse":
        return say("hint.credentials.dataverse", url=POWER_PLATFORM_ADMIN_URL, role=INTEGRATION_ROLE)
    return say("hint.credentials.other", url=ENTRA_APP_REGISTRATIONS_URL)


def _exchange_rate(facts: Mapping[str, Any], links: Links) -> Phrase:
    code = facts.get("currency_code")
    # The rate is kept in Business Central (Currencies > Exch. Rates); Dataverse gets it from there.
    page = link(say("term.currencies_page"), links.bc_page(PAGE_CURRENCIES))
    return say("hint.exchange_rate", code=str(code) if code else say("term.this_currency"), page=page)


def _deleted(facts: Mapping[str, Any], links: Links) -> Phrase:
    key = facts.get("surviving_key")
    surviving = app(facts.get("surviving_side")), noun(facts.get("surviving_table"))
    survivor = (
        say("hint.survivor_key", app=surviving[0], table=surviving[1], key=str(key))
        if key
        else say("hint.survivor", app=surviving[0], table=surviving[1])
    )
    page = link(say("term.coupled_data_errors"), links.bc_page(PAGE_COUPLED_DATA_ERRORS))
    return say(
        "hint.deleted",
        deleted=app(facts.get("deleted_side")),
        deleted_table=noun(facts.get("deleted_table")),
        survivor=survivor,
        page=page,
    )


def _dependency(facts: Mapping[str, Any], links: Links) -> Phrase:
    mapping = facts.get("dependency_mapping")
    key = facts.get("dependency_key")
    table = noun(facts.get("dependency_table"))
    label = (
        say("term.record_key", record=table, key=str(key)) if key else say("term.the_record", record=table)
    )
    record = link(label, facts.get("dependency_url"))
    run = say("term.run_mapping", mapping=str(mapping)) if mapping else say("term.synchronize_it")
    if facts.get("missing_reference"):
        where = app(facts.get("missing_in"))
        if mapping == "CURRENCY":
            page = link(say("term.currencies_page"), links.bc_page(PAGE_CURRENCIES))
            return say("hint.dependency.missing_currency", record=record, app=where, run=run, page=page)
        return say("hint.dependency.missing", record=record, app=where, run=run)
    page = link(say("term.table_mappings"), links.bc_page(PAGE_TABLE_MAPPINGS))
    return say("hint.dependency", record=record, run=run, page=page)


def _update_conflict(facts: Mapping[str, Any], links: Links) -> Phrase:
    if facts.get("stale_etag"):
        return say("hint.stale_etag")
    return say(
        "hint.update_conflict", page=link(say("term.table_mappings"), links.bc_page(PAGE_TABLE_MAPPINGS))
    )


def _throttled(facts: Mapping[str, Any], _links: Links) -> Phrase:
    wait = facts.get("retry_after")
    where = app(facts.get("system"))
    if isinstance(wait, int | float) and wait >= 0:
        return say("hint.throttled_wait", app=where, seconds=int(float(wait)))
    return say("hint.throttled", app=where)


def _connection(facts: Mapping[str, Any], _links: Links) -> Phrase:
    where = app(facts.get("system"))
    if facts.get("status"):
        return say("hint.connection.status", app=where, status=str(facts["status"]))
    return say("hint.connection", app=where)


_COUPLING_REASONS = {
    "already-coupled": "hint.coupling.already_coupled",
    "no-match": "hint.coupling.no_match",
    "several-matches": "hint.coupling.several_matches",
}


def _validation(facts: Mapping[str, Any], links: Links) -> Phrase:
    if facts.get("coupling_reason"):
        return say(_COUPLING_REASONS.get(str(facts["coupling_reason"]), "hint.coupling.other"))
    return say("hint.validation", page=link(say("term.sync_errors"), links.bc_page(PAGE_SYNC_ERRORS)))


def _admin_mode(_facts: Mapping[str, Any], _links: Links) -> Phrase:
    return say("hint.admin_mode", url=POWER_PLATFORM_ADMIN_URL)


def _several_matches(facts: Mapping[str, Any], _links: Links) -> Phrase:
    return say("hint.several_matches", table=caption(str(facts.get("candidate_table") or "")))


def _other(_facts: Mapping[str, Any], links: Links) -> Phrase:
    return say("hint.other", page=link(say("term.sync_errors"), links.bc_page(PAGE_SYNC_ERRORS)))


_HINTS: dict[Category, Callable[[Mapping[str, Any], Links], Phrase]] = {
    Category.PERMISSIONS: _permissions,
    Category.ADMIN_INTEGRATION_USER: _admin_user,
    Category.CREDENTIALS: _credentials,
    Category.EXCHANGE_RATE: _exchange_rate,
    Category.DELETED_RECORD: _deleted,
    Category.DEPENDENCY_NOT_COUPLED: _dependency,
    Category.UPDATE_CONFLICT: _update_conflict,
    Category.THROTTLED: _throttled,
    Category.CONNECTION: _connection,
    Category.ADMIN_MODE: _admin_mode,
    Category.VALIDATION: _validation,
    Category.SEVERAL_MATCHES: _several_matches,
}


def hint_phrase(category: Category, facts: Mapping[str, Any], *, links: Links | None = None) -> Phrase:
    """What to do about an error of `category` with `facts`, and who must do it, as a phrase."""
    return _HINTS.get(category, _other)(facts, links or Links())


def hint_for(category: Category, facts: Mapping[str, Any], *, links: Links | None = None) -> str:
    """Short, specific text of what to do about an error of `category` with `facts`, in English."""
    return english(hint_phrase(category, facts, links=links))
