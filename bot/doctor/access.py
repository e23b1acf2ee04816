"""Checks that the bot can sign in to and talk to both APIs, and whether either is throttling it."""

from __future__ import annotations

from bot.connectors.auth import BUSINESS_CENTRAL_SCOPE, dataverse_scope
from bot.doctor.context import DoctorRun
from bot.doctor.result import BC_API, BC_SIGN_IN, DATAVERSE_API, DATAVERSE_SIGN_IN, THROTTLING, CheckResult
from bot.sync.hints import hint_for
from storage.models import Category


def check_bc_sign_in(run: DoctorRun) -> CheckResult:
    """The token endpoint issues a token for the Business Central API."""
    try:
        run.tokens.access_token(BUSINESS_CENTRAL_SCOPE)
    except Exception as error:  # noqa: BLE001 - every failure becomes a result
        return run.failure(BC_SIGN_IN, "Sign-in for Business Central refused", error)
    return CheckResult(BC_SIGN_IN, True, f"Got a token for {BUSINESS_CENTRAL_SCOPE}.")


def check_dataverse_sign_in(run: DoctorRun) -> CheckResult:
    """The token endpoint issues a token for the Dataverse environment."""
    url = run.dataverse_url
    if not url:
        return CheckResult(
            DATAVERSE_SIGN_IN, False, "DATAVERSE_URL is not set.", "Set DATAVERSE_URL to the environment URL."
        )
    scope = dataverse_scope(url)
    try:
        run.tokens.access_token(scope)
    except Exception as error:  # noqa: BLE001
        return run.failure(DATAVERSE_SIGN_IN, "Sign-in for Dataverse refused", error)
    return CheckResult(DATAVERSE_SIGN_IN, True, f"Got a token for {scope}.")


def check_bc_api(run: DoctorRun) -> CheckResult:
    """The Business Central API answers and the configured company (or a first one) exists."""
    blocked = run.blocked(BC_API, BC_SIGN_IN)
    if blocked:
        return blocked
    try:
        companies = run.bc.companies()
    except Exception as error:  # noqa: BLE001
        return run.failure(BC_API, "Business Central API refused the company list", error)
    run.calls_answered += 1
    wanted = run.settings.bc_company_id
    names = {str(c.get("id")): str(c.get("name") or c.get("displayName") or "") for c in companies}
    if not companies:
        return CheckResult(
            BC_API,
            False,
            "Business Central answered, but the environment has no company.",
            "An admin must create a company, or point BC_API_URL at the right environment.",
        )
    if wanted and wanted not in names:
        listed = ", ".join(f"{name} ({cid})" for cid, name in names.items())
        return CheckResult(
            BC_API,
            False,
            f"No company with id {wanted} (BC_COMPANY_ID). The environment has: {listed}.",
            "Set BC_COMPANY_ID to one of the listed company ids, or unset it to use the first company.",
        )
    company_id = wanted or next(iter(names))
    return CheckResult(
        BC_API,
        True,
        f"Company '{names[company_id]}' ({company_id}) found"
        + (f" among {len(companies)} companies." if len(companies) > 1 else "."),
    )


def check_dataverse_api(run: DoctorRun) -> CheckResult:
    """Dataverse answers WhoAmI (it refuses when the environment is in administration mode)."""
    blocked = run.blocked(DATAVERSE_API, DATAVERSE_SIGN_IN)
    if blocked:
        return blocked
    try:
        run.who = run.dataverse.who_am_i()
    except Exception as error:  # noqa: BLE001
        return run.failure(DATAVERSE_API, "Dataverse refused WhoAmI", error)
    run.calls_answered += 1
    return CheckResult(
        DATAVERSE_API,
        True,
        f"Dataverse answered WhoAmI: user {run.who.user_id}, organization {run.who.organization_id}; "
        "not in administration mode.",
    )


def check_throttling(run: DoctorRun) -> CheckResult:
    """Whether either API answered 429 (service protection limits) during this run."""
    if run.throttled:
        check, error = run.throttled[0]
        wait = f" Retry after {error.retry_after:g} s." if error.retry_after is not None else ""
        where = ", ".join(sorted({c for c, _ in run.throttled}))
        facts = {"system": error.system, "retry_after": error.retry_after}
        return CheckResult(
            THROTTLING,
            False,
            f"Throttled (HTTP 429) during: {where}. {error.message}{wait}".strip(),
            hint_for(Category.THROTTLED, facts, links=run.links),
        )
    if run.calls_answered == 0:
        return CheckResult(
            THROTTLING, False, "Not checked: neither API answered.", "Fix the sign-in and API checks first."
        )
    return CheckResult(THROTTLING, True, "No API answered 429 (service protection limits) during the checks.")
