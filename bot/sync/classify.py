"""Turn connector errors and engine conditions into CONTRACT.md's error categories, with facts and a hint.

`classify` never raises: whatever it is given, it returns a Classification (unknown things become `other`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.connectors.errors import (
    AuthenticationFailed,
    ConcurrencyConflict,
    ConnectionFailed,
    ConnectorError,
    InvalidData,
    MissingReference,
    NotFound,
    PermissionDenied,
    ServerError,
    Throttled,
    Timeout,
)
from bot.phrases import ADVICE_FACT, SAID_FACT, Phrase, app, english, noun, say
from bot.phrases import caption as caption_of
from bot.sync.conditions import (
    AdminIntegrationUser,
    CouplingRefused,
    DeletedRecord,
    DependencyNotCoupled,
    EngineCondition,
    MissingExchangeRate,
    NoBusinessRelation,
    SeveralMatches,
    UpdateConflict,
)
from bot.sync.fieldmap import Lookup, MappingSpec
from bot.sync.hints import Links, aadsts_meaning, field_caption, hint_phrase, system_label
from bot.sync.mappings import SPECS, spec_for_table
from storage.models import Category, Direction, System


class References(Protocol):
    """Names and links records an error refers to (read from the apps; may be unknown)."""

    def key_of(self, system: str, table: str, record_id: str) -> str | None:
        """The record's code or number, read by its GUID."""

    def url_of(self, system: str, table: str, record_id: str | None, key: str | None) -> str | None:
        """A link to the record in its app."""


MAX_MESSAGE = 250
MAX_DETAIL = 20_000

DATAVERSE_PRIVILEGE_DENIED = "0x80040220"
# Dataverse service protection limits (reference §6): code -> what was exceeded.
THROTTLE_CODES = {
    "0x80072322": "number of requests",
    "-2147015902": "number of requests",
    "0x80072321": "combined execution time",
    "-2147015903": "combined execution time",
    "0x80072326": "concurrent requests",
    "-2147015898": "concurrent requests",
}
ADMIN_MODE_TEXT = "admin only mode"
_MISSING_PRIVILEGE = re.compile(r"missing (prv\w+) privilege", re.IGNORECASE)
_FOR_ENTITY = re.compile(r"for entity '(\w+)'", re.IGNORECASE)
_PRINCIPAL = re.compile(r"Principal user \(Id=([0-9A-Fa-f-]{36})", re.IGNORECASE)
_AADSTS = re.compile(r"\bAADSTS(\d+)\b", re.IGNORECASE)
_NO_EXCHANGE_RATE = re.compile(r"currency (\w{1,10}) in .*?no exchange rate defined", re.IGNORECASE)
_EXCHANGE_RATE_TEXT = re.compile(
    r"no exchange ?rate|exchange ?rate (?:is )?(?:required|missing|not defined|must)|"
    r"missing (?:an? )?exchange ?rate|exchangerate",
    re.IGNORECASE,
)
_CURRENCY_CODE = re.compile(r"\b(?:currency|isocurrencycode)(?: code)?[ :=]+'?\"?([A-Z]{3})\b")
_MUST_BE_COUPLED = re.compile(r"^(.+?) (\S+) must be coupled to a record in ([\w ]+?)\.?$")
_COUPLED_TO_DELETED = re.compile(r"coupled to a deleted record", re.IGNORECASE)
_NO_RESOURCE = re.compile(
    r"Resource not found for the segment|No HTTP resource was found|environment '.*' does not exist",
    re.IGNORECASE,
)
_VOLATILE = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|\d+")
_GATEWAY_STATUSES = frozenset({502, 503, 504})
_USEFUL_BODY_KEYS = ("error_codes", "trace_id", "correlation_id", "timestamp", "error_uri")


@dataclass(frozen=True)
class ClassifyContext:
    """Where the failure happened: mapping, direction, tables, the source record and the apps' base URLs."""

    mapping: str
    direction: str
    source_table: str
    destination_table: str
    source_key: str | None = None
    source_name: str | None = None
    dataverse_url: str | None = None
    bc_web_url: str | None = None
    source_fields: Mapping[str, Any] | None = None  # the source record's fields, to name its lookups
    references: References | None = None  # names and links a referenced record (its code for its GUID)


@dataclass(frozen=True)
class Classification:
    """Category, code, short and full text, hint, facts and the stable cause of one failure."""

    category: Category
    code: str | None
    message: str
    detail: str
    hint: str
    facts: dict[str, Any] = field(default_factory=dict)
    cause_key: str = ""
    job_level: bool = False


def classify(failure: BaseException | EngineCondition, *, context: ClassifyContext) -> Classification:
    """Classify a connector error, an engine condition or any exception; never raises."""
    try:
        if isinstance(failure, EngineCondition):
            draft = _condition(failure, context)
        elif isinstance(failure, ConnectorError):
            draft = _connector_error(failure, context)
        else:
            draft = _unknown(failure)
        return _finish(draft, context)
    except Exception as exc:  # noqa: BLE001 - the classifier must never fail the sync run
        return _fallback(failure, exc)


# ---- drafts --------------------------------------------------------------------------------------


@dataclass
class _Draft:
    category: Category
    message: str
    cause: str
    code: str | None = None
    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    job_level: bool = False
    said: Phrase | None = None  # the message as a phrase, when the words are ours (not an app's)


def _finish(draft: _Draft, context: ClassifyContext) -> Classification:
    links = Links(bc_web_url=context.bc_web_url, dataverse_url=context.dataverse_url)
    facts = {k: v for k, v in draft.facts.items() if v is not None}
    try:
        advice = hint_phrase(draft.category, facts, links=links)
    except Exception:  # noqa: BLE001
        advice = hint_phrase(Category.OTHER, {}, links=links)
    hint = english(advice)
    facts[ADVICE_FACT] = advice.to_data()  # the hint as data: Slack words it in each reader's language
    if draft.said is not None:
        facts[SAID_FACT] = draft.said.to_data()
    message = _shorten(draft.message.strip() or "The synchronization failed.", MAX_MESSAGE)
    detail = draft.detail.strip() or draft.message
    return Classification(
        category=draft.category,
        code=_shorten(draft.code, 100) if draft.code else None,
        message=message,
        detail=_shorten(detail, MAX_DETAIL),
        hint=hint or "Re-sync the record; if it repeats, an admin should open Details.",
        facts=facts,
        cause_key=_shorten(draft.cause, 200) or draft.category.value,
        job_level=draft.job_level,
    )


def _fallback(failure: object, error: BaseException) -> Classification:
    text = _safe_text(failure)
    return Classification(
        category=Category.OTHER,
        code=None,
        message=_shorten(text or "The synchronization failed.", MAX_MESSAGE),
        detail=f"{text}\n(classifier: {_safe_text(error)})",
        hint="Re-sync the record; if it repeats, an admin should open Details and check both apps.",
        facts={},
        cause_key=f"other:{_digest(text)}",
        job_level=False,
    )


# ---- engine conditions -----------------------------------------------------------------------------


def _condition(cond: EngineCondition, context: ClassifyContext) -> _Draft:
    if isinstance(cond, AdminIntegrationUser):
        server = cond.server or context.dataverse_url or "Dataverse"
        said = say("said.admin_user", user=cond.user_name, server=server)
        message = english(said)
        roles = ", ".join(cond.roles)
        return _Draft(
            Category.ADMIN_INTEGRATION_USER,
            message,
            f"admin-integration-user:{cond.user_id}",
            said=said,
            detail=f"{message}\nRoles: {roles}" if roles else message,
            facts={"user_name": cond.user_name, "user_id": cond.user_id, "roles": list(cond.roles)},
            job_level=True,
        )
    if isinstance(cond, MissingExchangeRate):
        where = "dataverse" if cond.system == "business_central" else "business_central"
        said = say("said.no_exchange_rate", code=cond.currency_code, app=app(where))
        return _Draft(
            Category.EXCHANGE_RATE,
            english(said),
            f"exchange-rate:{cond.currency_code}",
            said=said,
            facts={"currency_code": cond.currency_code, "system": cond.system},
        )
    if isinstance(cond, DeletedRecord):
        surviving_side = "dataverse" if cond.deleted_side == "business_central" else "business_central"
        said = say("said.coupled_to_deleted", table=caption_of(cond.surviving_table))
        message = english(said)
        return _Draft(
            Category.DELETED_RECORD,
            message,
            f"deleted-record:{cond.deleted_side}:{cond.table}:{cond.record_id}",
            said=said,
            detail=f"{message}\nDeleted in {system_label(cond.deleted_side)}: {cond.table} {cond.record_id}",
            facts={
                "deleted_side": cond.deleted_side,
                "deleted_table": cond.table,
                "deleted_id": cond.record_id,
                "surviving_side": surviving_side,
                "surviving_table": cond.surviving_table,
                "surviving_key": cond.surviving_key or context.source_key,
            },
        )
    if isinstance(cond, DependencyNotCoupled):
        where = "dataverse" if cond.dependency_system == "business_central" else "business_central"
        dependency_id = None
        key = cond.dependency_key
        if cond.dependency_system == "dataverse" and _is_guid(key):
            # Dataverse holds a lookup's GUID; people know the record by its code (EUR, not dbbf9191-…).
            dependency_id = key.lower()
            key = _name_reference(context, "dataverse", cond.dependency_table, dependency_id) or ""
        label = key or noun(cond.dependency_table)
        said = say("said.must_be_coupled", field=field_caption(cond.field), record=label, app=app(where))
        return _Draft(
            Category.DEPENDENCY_NOT_COUPLED,
            english(said),
            f"dependency-not-coupled:{cond.dependency_mapping}:{cond.dependency_key}",
            said=said,
            facts={
                "dependency_mapping": cond.dependency_mapping,
                "dependency_table": cond.dependency_table,
                "dependency_key": key or None,
                "dependency_id": dependency_id,
                "dependency_url": _record_url(
                    context, cond.dependency_system, cond.dependency_table, dependency_id, key or None
                ),
                "field": cond.field,
                "dependency_system": cond.dependency_system,
            },
        )
    if isinstance(cond, UpdateConflict):
        pairs = [_split_pair(p) for p in cond.fields] or [("?", "?")]
        source_field, dest_field = pairs[0]
        said = say(
            "said.update_conflict",
            source=caption_of(cond.source_table),
            dest=caption_of(cond.destination_table),
            source_field=source_field,
            dest_field=dest_field,
        )
        message = english(said)
        return _Draft(
            Category.UPDATE_CONFLICT,
            message,
            cause=f"update-conflict:{context.mapping}:{context.source_key or context.source_name or ''}",
            detail=message + "\nDiffering fields: " + "; ".join(cond.fields),
            facts={"fields": list(cond.fields)},
            said=said,
        )
    if isinstance(cond, NoBusinessRelation):
        # Business Central's own texts for a contact whose company it cannot tie to a customer.
        said = (
            say("said.no_business_relation", contact=cond.contact)
            if cond.toward == "dataverse"
            else say("said.company_missing")
        )
        return _Draft(
            Category.VALIDATION,
            english(said),
            said=said,
            cause=f"no-business-relation:{context.mapping}:{cond.contact}",
            facts={"no_business_relation": True, "contact": cond.contact, "toward": cond.toward},
        )
    if isinstance(cond, SeveralMatches):
        listed = "; ".join(
            " ".join(part for part in (c.key, c.name) if part) or c.id for c in cond.candidates[:10]
        )
        said = say(
            "said.several_matches",
            count=len(cond.candidates),
            table=caption_of(cond.table),
            criteria=cond.criteria,
            listed=listed,
        )
        message = english(said)
        return _Draft(
            Category.SEVERAL_MATCHES,
            message[:500],
            said=said,
            cause=f"several-matches:{context.mapping}:{context.source_key or context.source_name or ''}",
            detail=message
            + "\n"
            + "\n".join(f"- {c.key or ''} {c.name or ''} ({c.id}) {c.url or ''}" for c in cond.candidates),
            facts={
                "candidate_table": cond.table,
                "criteria": cond.criteria,
                "candidates": [
                    {"id": c.id, "key": c.key, "name": c.name, "url": c.url} for c in cond.candidates
                ],
            },
        )
    if isinstance(cond, CouplingRefused):
        return _Draft(
            Category.VALIDATION,
            cond.detail or f"The record cannot be coupled ({cond.reason}).",
            f"coupling:{cond.reason}:{context.mapping}:{context.source_key or ''}",
            code=cond.reason,
            facts={"coupling_reason": cond.reason},
        )
    name = type(cond).__name__
    return _Draft(Category.OTHER, f"{name}: {_safe_text(cond)}", f"other:{name}")


def _split_pair(pair: str) -> tuple[str, str]:
    for sep in ("↔", "<->", "->", "="):
        if sep in pair:
            left, _, right = pair.partition(sep)
            return left.strip(), right.strip()
    return pair.strip(), pair.strip()


# ---- connector errors ------------------------------------------------------------------------------


def _connector_error(err: ConnectorError, context: ClassifyContext) -> _Draft:
    text = _safe_text(err.message) if not isinstance(err.message, str) else err.message
    code = _safe_code(err.code)
    system = err.system if isinstance(err.system, str) else None
    status = err.status if isinstance(err.status, int) and not isinstance(err.status, bool) else None
    base = {"system": system, "status": status}
    detail = _detail(err, text, code, system, status)
    system_key = system or "unknown"

    if ADMIN_MODE_TEXT in text.lower() or "administration mode" in text.lower():
        return _Draft(
            Category.ADMIN_MODE,
            text,
            "admin-mode:dataverse",
            code=code,
            detail=detail,
            facts=base,
            job_level=True,
        )
    aadsts = _aadsts(err, text)
    if isinstance(err, AuthenticationFailed) or aadsts or status == 401:
        meaning = aadsts_meaning(aadsts)
        if aadsts and meaning:
            # Entra's own text carries trace and correlation ids; those stay in the detail.
            message = f"Sign-in refused ({aadsts}): {meaning}."
        else:
            message = text if not meaning or meaning in text else f"{text} ({meaning})"
        return _Draft(
            Category.CREDENTIALS,
            message,
            f"credentials:{system_key}:{aadsts or code or status or 'refused'}",
            code=aadsts or code,
            detail=detail,
            facts={**base, "aadsts": aadsts, "meaning": meaning},
            job_level=True,
        )
    throttle_code = code if code in THROTTLE_CODES else None
    if isinstance(err, Throttled) or throttle_code or status == 429:
        retry_after = err.retry_after if isinstance(err, Throttled) else None
        if (
            not isinstance(retry_after, int | float)
            or isinstance(retry_after, bool)
            or retry_after != retry_after
        ):
            retry_after = None
        return _Draft(
            Category.THROTTLED,
            text,
            f"throttled:{system_key}",
            code=code,
            detail=detail,
            facts={**base, "retry_after": retry_after, "limit": THROTTLE_CODES.get(code or "")},
            job_level=True,
        )
    privilege, entity, user_id = _privilege(err, text)
    if isinstance(err, PermissionDenied) or code == DATAVERSE_PRIVILEGE_DENIED or privilege or status == 403:
        if privilege:
            cause = f"permissions:{privilege}:{entity or ''}"
        else:
            cause = f"permissions:{system_key}:{code or status or context.destination_table}"
        # Dataverse's text starts with the principal's ids and counts; the detail keeps all of it.
        short = (
            f"Principal user is missing {privilege} privilege for entity '{entity}'." if privilege else text
        )
        return _Draft(
            Category.PERMISSIONS,
            short if entity else text,
            cause,
            code=code,
            detail=detail,
            facts={**base, "privilege": privilege, "entity": entity, "user_id": user_id},
        )
    currency = _exchange_rate_currency(text)
    if currency is not None:
        return _Draft(
            Category.EXCHANGE_RATE,
            text,
            f"exchange-rate:{currency or 'unknown'}",
            code=code,
            detail=detail,
            facts={**base, "currency_code": currency or None},
        )
    coupled = _MUST_BE_COUPLED.match(_first_sentence(text))
    if coupled:
        return _Draft(
            Category.DEPENDENCY_NOT_COUPLED,
            text,
            f"dependency-not-coupled:{coupled.group(1)}:{coupled.group(2)}",
            code=code,
            detail=detail,
            facts={**base, "dependency_table": coupled.group(1), "dependency_key": coupled.group(2)},
        )
    if _COUPLED_TO_DELETED.search(text):
        return _deleted_from_error(err, text, code, detail, system, context)
    if isinstance(err, MissingReference):
        return _missing_reference(err, code, detail, system, context)
    if isinstance(err, ConcurrencyConflict):
        return _Draft(
            Category.UPDATE_CONFLICT,
            text,
            f"update-conflict:{context.mapping}:{context.source_key or ''}",
            code=code,
            detail=detail,
            facts={**base, "stale_etag": True},
        )
    if isinstance(err, NotFound):
        # An unknown table or URL is a setup problem (wrong API URL, missing entity), never a deleted record.
        if (code and "Company" in code) or _NO_RESOURCE.search(text):
            return _Draft(
                Category.OTHER,
                text,
                f"not-found:{code}",
                code=code,
                detail=detail,
                facts=base,
                job_level=True,
            )
        return _deleted_from_error(err, text, code, detail, system, context)
    unavailable = (code or "").startswith(("Internal_TenantUnavailable", "Internal_ServiceUnavailable"))
    if isinstance(err, ConnectionFailed | Timeout | ServerError) or unavailable or (status or 0) >= 500:
        job_level = isinstance(err, ConnectionFailed) or status in _GATEWAY_STATUSES
        kind = type(err).__name__
        return _Draft(
            Category.CONNECTION,
            text,
            f"connection:{system_key}:{kind}:{status or ''}",
            code=code,
            detail=detail,
            facts=base,
            job_level=job_level,
        )
    if isinstance(err, InvalidData) or (status is not None and 400 <= status < 500):
        return _Draft(
            Category.VALIDATION,
            text,
            f"validation:{system_key}:{code or status or ''}:{_digest(text)}",
            code=code,
            detail=detail,
            facts=base,
        )
    return _Draft(
        Category.OTHER,
        text,
        f"other:{system_key}:{code or status or ''}:{_digest(text)}",
        code=code,
        detail=detail,
        facts=base,
    )


def _deleted_from_error(
    err: ConnectorError,
    text: str,
    code: str | None,
    detail: str,
    system: str | None,
    context: ClassifyContext,
) -> _Draft:
    destination_side = "dataverse" if context.direction == "to_dataverse" else "business_central"
    deleted_side = system if system in ("business_central", "dataverse") else destination_side
    surviving_side = "dataverse" if deleted_side == "business_central" else "business_central"
    message, said = text, None
    if isinstance(err, NotFound) and not _COUPLED_TO_DELETED.search(text):
        said = say("said.coupled_to_deleted", table=caption_of(context.source_table))
        message = english(said)
    return _Draft(
        Category.DELETED_RECORD,
        message,
        f"deleted-record:{deleted_side}:{context.destination_table}:{context.source_key or ''}",
        code=code,
        detail=detail if message == text else f"{message}\n{detail}",
        said=said,
        facts={
            "system": system,
            "deleted_side": deleted_side,
            "deleted_table": context.destination_table,
            "surviving_side": surviving_side,
            "surviving_table": context.source_table,
            "surviving_key": context.source_key,
        },
    )


def _missing_reference(
    err: MissingReference,
    code: str | None,
    detail: str,
    system: str | None,
    context: ClassifyContext,
) -> _Draft:
    """A record the written data refers to is gone: the lookup's problem, named by its code."""
    missing_in = system if system in ("business_central", "dataverse") else None
    lookup, target = _lookup_for(context, missing_in, err)
    table = target.side(System(missing_in)).entity_set if target and missing_in else (err.table or "")
    key = err.key
    if key is None and lookup is not None and context.source_fields and missing_in == "dataverse":
        # Toward Dataverse the source is the Business Central record: its field holds the code.
        key = str(context.source_fields.get(lookup.bc) or "") or None
    if key is None and err.record_id and missing_in:
        key = _name_reference(context, missing_in, table, err.record_id)
    field_name = lookup.bc if lookup is not None else (err.field or "")
    caption = (
        lookup.caption if lookup is not None and lookup.caption else (err.field or field_caption(field_name))
    )
    where = app(missing_in)
    refers = say("said.this_records", field=caption) if caption else say("said.this_record")
    missing_key = table or err.table
    if key:
        said = say("said.missing_key", record=caption_of(missing_key), key=key, app=where, refers=refers)
    else:
        said = say("said.missing", record=noun(missing_key), refers=refers, app=where)
    # The record that still exists is the one to act on (re-create its partner, or couple it): it lives in
    # the other app, known by its code in Business Central and by its GUID in Dataverse.
    existing_in = _other(missing_in)
    existing_id = None
    if existing_in == "dataverse" and lookup is not None and context.source_fields:
        existing_id = str(context.source_fields.get(lookup.value_field) or "") or None
    if key is None and existing_id and existing_in and target is not None:
        # Business Central named only the field: the code is that of the Dataverse row the data points at.
        key = _name_reference(context, existing_in, target.side(System(existing_in)).entity_set, existing_id)
        if key:
            said = say("said.missing_key", record=caption_of(missing_key), key=key, app=where, refers=refers)
    facts: dict[str, Any] = {
        "system": system,
        "status": err.status,
        "missing_reference": True,
        "missing_in": missing_in,
        "missing_id": err.record_id,
        "dependency_mapping": target.name if target else None,
        "dependency_table": _other_table(target, missing_in) or table or err.table,
        "dependency_key": key,
        "dependency_id": existing_id,
        "dependency_system": existing_in,
        "field": field_name or None,
        "dependency_url": _record_url(
            context, existing_in, _other_table(target, missing_in), existing_id, key
        )
        if key or existing_id
        else None,
    }
    if target is not None and target.name == "CURRENCY" and missing_in == "dataverse":
        facts["currency_code"] = key
    message = english(said)
    return _Draft(
        Category.DEPENDENCY_NOT_COUPLED,
        message,
        f"missing-reference:{missing_in}:{table or err.table}:{key or err.record_id or ''}",
        code=code,
        detail=f"{message}\n{detail}",
        facts=facts,
        said=said,
    )


def _lookup_for(
    context: ClassifyContext, missing_in: str | None, err: MissingReference
) -> tuple[Lookup | None, MappingSpec | None]:
    """The mapping's lookup that points at the missing record's table, and the mapping of that table."""
    spec = SPECS.get(context.mapping.upper())
    target: MappingSpec | None = None
    if missing_in and err.table:
        target = spec_for_table(System(missing_in), err.table) or next(
            (s for s in SPECS.values() if s.side(System(missing_in)).caption.lower() == err.table.lower()),
            None,
        )
    if spec is None:
        return None, target
    direction = (
        Direction(context.direction) if context.direction in ("to_dataverse", "from_dataverse") else None
    )
    lookups = spec.lookups_for(direction) if direction else spec.lookups
    for lookup in lookups:
        named = {lookup.bc.lower(), (lookup.caption or "").lower()} - {""}
        if err.field and err.field.lower() in named:
            return lookup, SPECS.get(lookup.target, target)
    for lookup in lookups:
        if target is not None and lookup.target == target.name:
            return lookup, target
    return None, target


def _other(system: str | None) -> str | None:
    if system is None:
        return None
    return "business_central" if system == "dataverse" else "dataverse"


def _other_table(target: MappingSpec | None, system: str | None) -> str | None:
    other = _other(system)
    return target.side(System(other)).entity_set if target is not None and other else None


def _name_reference(context: ClassifyContext, system: str, table: str, record_id: str) -> str | None:
    if context.references is None or not table:
        return None
    try:
        return context.references.key_of(system, table, record_id) or None
    except Exception:  # noqa: BLE001 - naming is a courtesy; the error is recorded without it
        return None


# Business Central list pages filtered to one record by its key (reference §7, deep links).
_BC_PAGES = {
    "currencies": (5, "Code"),
    "customers": (22, "No."),
    "contacts": (5052, "No."),
    "items": (31, "No."),
    "salespeople": (14, "Code"),
}


def _record_url(
    context: ClassifyContext, system: str | None, table: str | None, record_id: str | None, key: str | None
) -> str | None:
    """A link to a record in its app: by GUID in Dataverse, by its code on a filtered page in BC."""
    if context.references is not None and system and table:
        try:
            return context.references.url_of(system, table, record_id, key)
        except Exception:  # noqa: BLE001
            return None
    if system == "dataverse" and record_id and context.dataverse_url and table:
        target = spec_for_table(System.DATAVERSE, table)
        logical = target.dataverse.name if target else table
        base = context.dataverse_url.rstrip("/")
        return f"{base}/main.aspx?pagetype=entityrecord&etn={logical}&id={record_id}"
    if system == "business_central" and key and context.bc_web_url and table in _BC_PAGES:
        page, field_name = _BC_PAGES[str(table)]
        base = context.bc_web_url.rstrip("/")
        joiner = "&" if "?" in base else "/?"
        return f"{base}{joiner}page={page}&filter='{field_name}' IS '{key}'"
    return None


_GUID_TEXT = re.compile(
    r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$"
)


def _is_guid(value: str | None) -> bool:
    return bool(value) and bool(_GUID_TEXT.match(str(value)))


# ---- helpers ---------------------------------------------------------------------------------------


def _aadsts(err: ConnectorError, text: str) -> str | None:
    if isinstance(err, AuthenticationFailed) and isinstance(err.aadsts, str) and err.aadsts.strip():
        found = _AADSTS.search(err.aadsts) or re.fullmatch(r"\s*(\d+)\s*", err.aadsts)
        if found:
            return f"AADSTS{found.group(1)}"
    match = _AADSTS.search(text)
    if match:
        return f"AADSTS{match.group(1)}"
    body = err.body if isinstance(err.body, Mapping) else None
    if body:
        codes = body.get("error_codes")
        if isinstance(codes, list) and codes and isinstance(codes[0], int) and not isinstance(codes[0], bool):
            return f"AADSTS{codes[0]}"
        match = _AADSTS.search(_safe_text(body.get("error_description") or ""))
        if match:
            return f"AADSTS{match.group(1)}"
    return None


def _privilege(err: ConnectorError, text: str) -> tuple[str | None, str | None, str | None]:
    privilege = (
        err.privilege if isinstance(err, PermissionDenied) and isinstance(err.privilege, str) else None
    )
    entity = err.entity if isinstance(err, PermissionDenied) and isinstance(err.entity, str) else None
    found = _MISSING_PRIVILEGE.search(text)
    if not privilege and found:
        privilege = found.group(1)
    found = _FOR_ENTITY.search(text)
    if not entity and found:
        entity = found.group(1)
    principal = _PRINCIPAL.search(text)
    return privilege or None, entity or None, principal.group(1) if principal else None


def _exchange_rate_currency(text: str) -> str | None:
    """Currency code of an exchange-rate refusal; "" when the text names none; None when no such refusal."""
    match = _NO_EXCHANGE_RATE.search(text)
    if match:
        return match.group(1)
    if not _EXCHANGE_RATE_TEXT.search(text):
        return None
    code = _CURRENCY_CODE.search(text)
    return code.group(1) if code else ""


def _first_sentence(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def _detail(err: ConnectorError, text: str, code: str | None, system: str | None, status: int | None) -> str:
    lines = [text]
    head = " ".join(
        part
        for part in (
            system_label(system) if system else "",
            f"HTTP {status}" if status is not None else "",
            f"code {code}" if code else "",
        )
        if part
    )
    if head:
        lines.append(head)
    if isinstance(err.method, str) and isinstance(err.url, str):
        lines.append(f"{err.method} {err.url}")
    body = err.body if isinstance(err.body, Mapping) else None
    if body:
        lines.extend(_useful_body_lines(body, text))
    return "\n".join(line for line in lines if line)


def _useful_body_lines(body: Mapping[Any, Any], text: str) -> list[str]:
    lines: list[str] = []
    error = body.get("error")
    if isinstance(error, Mapping):
        message = error.get("message")
        if isinstance(message, str) and message.strip() and message.strip() not in text:
            lines.append(message.strip())
        inner = error.get("innererror")
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            lines.append(f"Inner error: {inner['message']}")
        for key, value in error.items():
            if (
                isinstance(key, str)
                and key.startswith("@Microsoft.PowerApps.CDS.")
                and value not in (None, "")
            ):
                lines.append(f"{key.removeprefix('@Microsoft.PowerApps.CDS.')}: {_compact(value)}")
    elif isinstance(error, str):
        lines.append(f"error: {error}")
    for key in _USEFUL_BODY_KEYS:
        if key in body and body[key] not in (None, ""):
            lines.append(f"{key}: {_compact(body[key])}")
    return lines


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return _shorten(value, 2000)
    try:
        return _shorten(json.dumps(value, default=str, ensure_ascii=False), 2000)
    except Exception:  # noqa: BLE001
        return _shorten(_safe_text(value), 2000)


def _safe_code(code: object) -> str | None:
    if code is None:
        return None
    text = code if isinstance(code, str) else _safe_text(code)
    return text.strip() or None


def _unknown(exc: BaseException) -> _Draft:
    name = type(exc).__name__
    text = _safe_text(exc)
    message = f"{name}: {text}" if text else name
    return _Draft(Category.OTHER, message, f"other:{name}:{_digest(text)}")


def _safe_text(value: object) -> str:
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # noqa: BLE001
        try:
            text = repr(value)
        except Exception:  # noqa: BLE001
            text = type(value).__name__
    return text if isinstance(text, str) else ""


def _digest(text: str) -> str:
    normalised = _VOLATILE.sub("#", text.strip().lower())[:500]
    return hashlib.sha1(normalised.encode("utf-8", "replace")).hexdigest()[:12]


def _shorten(text: str, limit: int) -> str:
    text = text if isinstance(text, str) else _safe_text(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
