"""Warn about Skipped couplings: records that failed the same way twice and no longer sync by schedule."""

from __future__ import annotations

from bot.doctor.context import DoctorRun
from bot.doctor.result import SKIPPED_COUPLINGS, CheckResult
from bot.sync.hints import PAGE_COUPLED_DATA_ERRORS
from storage.errors import count_skipped, skipped_couplings

NAMED = 3


def check_skipped_couplings(run: DoctorRun) -> CheckResult:
    """No coupling is Skipped (Business Central's Coupled Data Synchronization Errors is empty)."""
    if run.session is None:
        return CheckResult(
            SKIPPED_COUPLINGS,
            False,
            "Not checked: the bot's database was not given.",
            "Run the doctor where the bot's database is reachable (DATABASE_URL).",
        )
    total = count_skipped(run.session)
    if total == 0:
        return CheckResult(SKIPPED_COUPLINGS, True, "No coupling is Skipped.")
    named = []
    for coupling, error in skipped_couplings(run.session, limit=NAMED):
        record = f"{coupling.mapping} {coupling.bc_key or coupling.name or coupling.bc_id}"
        named.append(f"{record} ({error.message})" if error is not None else record)
    more = f" and {total - len(named)} more" if total > len(named) else ""
    page = run.links.bc_page(PAGE_COUPLED_DATA_ERRORS)
    where = f" (Business Central shows them on Coupled Data Synchronization Errors, {page})" if page else ""
    return CheckResult(
        SKIPPED_COUPLINGS,
        False,
        f"{total} coupling{'' if total == 1 else 's'} Skipped after failing the same way twice, so scheduled "
        f"runs leave {'it' if total == 1 else 'them'} out: {'; '.join(named)}{more}.",
        "Fix the cause each error names, then Re-sync them (`sync-errors list --skipped`, "
        f"`sync-errors resync --failed`), or remove the couplings that are no longer wanted{where}.",
    )
