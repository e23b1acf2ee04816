"""Warn about Skipped couplings: records that failed the same way twice and no longer sync by schedule."""

from __future__ import annotations

from bot.doctor.context import DoctorRun
from bot.doctor.result import SKIPPED_COUPLINGS, CheckResult
from bot.phrases import Value, say
from bot.sync.hints import PAGE_COUPLED_DATA_ERRORS
from storage.errors import count_skipped, skipped_couplings

NAMED = 3


def check_skipped_couplings(run: DoctorRun) -> CheckResult:
    """No coupling is Skipped (Business Central's Coupled Data Synchronization Errors is empty)."""
    if run.session is None:
        return CheckResult(
            SKIPPED_COUPLINGS,
            False,
            say("doctor.no_database"),
            say("doctor.no_database_fix"),
        )
    total = count_skipped(run.session)
    if total == 0:
        return CheckResult(SKIPPED_COUPLINGS, True, say("doctor.none_skipped"))
    named = []
    for coupling, error in skipped_couplings(run.session, limit=NAMED):
        record = f"{coupling.mapping} {coupling.bc_key or coupling.name or coupling.bc_id}"
        named.append(f"{record} ({error.message})" if error is not None else record)
    listed: Value = "; ".join(named)
    if total > len(named):
        listed = say("doctor.and_more", listed=listed, more=total - len(named))
    page = run.links.bc_page(PAGE_COUPLED_DATA_ERRORS)
    return CheckResult(
        SKIPPED_COUPLINGS,
        False,
        say("doctor.skipped", n=total, listed=listed),
        say("doctor.skipped_fix_page", page=page) if page else say("doctor.skipped_fix"),
    )
