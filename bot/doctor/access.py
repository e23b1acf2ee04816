"""Checks that the bot can sign in to and talk to both APIs, and whether either is throttling it."""

from __future__ import annotations

from bot.connectors.auth import BUSINESS_CENTRAL_SCOPE, dataverse_scope
from bot.doctor.context import DoctorRun
from bot.doctor.result import BC_API, BC_SIGN_IN, DATAVERSE_API, DATAVERSE_SIGN_IN, THROTTLING, CheckResult
from bot.phrases import say
from bot.sync.hints import hint_phrase
from storage.models import Category


def check_bc_sign_in(run: DoctorRun) -> CheckResult:
    """The token endpoint issues a token for the Business Central API."""
    try:
        run.tokens.access_token(BUSINESS_CENTRAL_SCOPE)
    except Exception as error:  # noqa: BLE001 - every failure becomes a result
        return run.failure(BC_SIGN_IN, say("doctor.bc_sign_in_refused"), error)
    return CheckResult(BC_SIGN_IN, True, say("doctor.token", scope=BUSINESS_CENTRAL_SCOPE))


def check_dataverse_sign_in(run: DoctorRun) -> CheckResult:
    """The token endpoint issues a token for the Dataverse environment."""
    url = run.dataverse_url
    if not url:
        return CheckResult(
            DATAVERSE_SIGN_IN, False, say("doctor.no_dataverse_url"), say("doctor.no_dataverse_url_fix")
        )
    scope = dataverse_scope(url)
    try:
        run.tokens.access_token(scope)
    except Exception as error:  # noqa: BLE001
        return run.failure(DATAVERSE_SIGN_IN, say("doctor.dataverse_sign_in_refused"), error)
    return CheckResult(DATAVERSE_SIGN_IN, True, say("doctor.token", scope=scope))


def check_bc_api(run: DoctorRun) -> CheckResult:
    """The Business Central API answers and the configured company (or a first one) exists."""
    blocked = run.blocked(BC_API, BC_SIGN_IN)
    if blocked:
        return blocked
    try:
        companies = run.bc.companies()
    except Exception as error:  # noqa: BLE001
        return run.failure(BC_API, say("doctor.bc_api_refused"), error)
    run.calls_answered += 1
    wanted = run.settings.bc_company_id
    names = {str(c.get("id")): str(c.get("name") or c.get("displayName") or "") for c in companies}
    if not companies:
        return CheckResult(
            BC_API,
            False,
            say("doctor.no_company"),
            say("doctor.no_company_fix"),
        )
    if wanted and wanted not in names:
        listed = ", ".join(f"{name} ({cid})" for cid, name in names.items())
        return CheckResult(
            BC_API,
            False,
            say("doctor.wrong_company", id=wanted, listed=listed),
            say("doctor.wrong_company_fix"),
        )
    company_id = wanted or next(iter(names))
    return CheckResult(
        BC_API,
        True,
        say("doctor.company_among", name=names[company_id], id=company_id, n=len(companies))
        if len(companies) > 1
        else say("doctor.company", name=names[company_id], id=company_id),
    )


def check_dataverse_api(run: DoctorRun) -> CheckResult:
    """Dataverse answers WhoAmI (it refuses when the environment is in administration mode)."""
    blocked = run.blocked(DATAVERSE_API, DATAVERSE_SIGN_IN)
    if blocked:
        return blocked
    try:
        run.who = run.dataverse.who_am_i()
    except Exception as error:  # noqa: BLE001
        return run.failure(DATAVERSE_API, say("doctor.who_am_i_refused"), error)
    run.calls_answered += 1
    return CheckResult(
        DATAVERSE_API,
        True,
        say("doctor.who_am_i", user=run.who.user_id, organization=run.who.organization_id),
    )


def check_throttling(run: DoctorRun) -> CheckResult:
    """Whether either API answered 429 (service protection limits) during this run."""
    if run.throttled:
        check, error = run.throttled[0]
        where = ", ".join(sorted({c for c, _ in run.throttled}))
        facts = {"system": error.system, "retry_after": error.retry_after}
        found = (
            say("doctor.throttled_wait", where=where, message=error.message, seconds=f"{error.retry_after:g}")
            if error.retry_after is not None
            else say("doctor.throttled", where=where, message=error.message)
        )
        return CheckResult(THROTTLING, False, found, hint_phrase(Category.THROTTLED, facts, links=run.links))
    if run.calls_answered == 0:
        return CheckResult(THROTTLING, False, say("doctor.no_answer"), say("doctor.no_answer_fix"))
    return CheckResult(THROTTLING, True, say("doctor.not_throttled"))
