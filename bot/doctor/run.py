"""Run every doctor check in order; one failing (or crashing) check never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlmodel import Session

from bot.config import Settings
from bot.doctor.access import (
    check_bc_api,
    check_bc_sign_in,
    check_dataverse_api,
    check_dataverse_sign_in,
    check_throttling,
)
from bot.doctor.context import DoctorRun
from bot.doctor.currencies import check_currencies
from bot.doctor.mappings import check_mapping_dependencies
from bot.doctor.ports import BusinessCentralApi, DataverseApi, TokenSource
from bot.doctor.privileges import check_user_privileges
from bot.doctor.result import (
    BC_API,
    BC_SIGN_IN,
    CURRENCIES,
    DATAVERSE_API,
    DATAVERSE_SIGN_IN,
    MAPPING_DEPENDENCIES,
    SKIPPED_COUPLINGS,
    THROTTLING,
    USER_ENABLED,
    USER_NON_INTERACTIVE,
    USER_NOT_ADMIN,
    USER_PRIVILEGES,
    USER_ROLE,
    CheckResult,
)
from bot.doctor.skipped import check_skipped_couplings
from bot.doctor.user import (
    check_user_enabled,
    check_user_non_interactive,
    check_user_not_admin,
    check_user_role,
)
from bot.phrases import say
from storage.models import Mapping

CHECKS: tuple[tuple[str, Callable[[DoctorRun], CheckResult]], ...] = (
    (BC_SIGN_IN, check_bc_sign_in),
    (DATAVERSE_SIGN_IN, check_dataverse_sign_in),
    (BC_API, check_bc_api),
    (DATAVERSE_API, check_dataverse_api),
    (USER_NOT_ADMIN, check_user_not_admin),
    (USER_ROLE, check_user_role),
    (USER_PRIVILEGES, check_user_privileges),
    (USER_ENABLED, check_user_enabled),
    (USER_NON_INTERACTIVE, check_user_non_interactive),
    (CURRENCIES, check_currencies),
    (MAPPING_DEPENDENCIES, check_mapping_dependencies),
    (THROTTLING, check_throttling),
    (SKIPPED_COUPLINGS, check_skipped_couplings),
)


def run_doctor(
    *,
    settings: Settings,
    bc: BusinessCentralApi,
    dataverse: DataverseApi,
    tokens: TokenSource,
    session: Session | None = None,
    mappings: Sequence[Mapping] | None = None,
) -> list[CheckResult]:
    """Check the integration setup and return one result per check, in a fixed order.

    `mappings` defaults to the store's mappings (when a session is given).
    """
    run = DoctorRun(
        settings=settings,
        bc=bc,
        dataverse=dataverse,
        tokens=tokens,
        session=session,
        mappings=list(mappings) if mappings is not None else None,
    )
    for name, check in CHECKS:
        try:
            result = check(run)
        except Exception as error:  # noqa: BLE001 - a broken check must not hide the others
            result = run.failure(name, say("doctor.check_failed"), error)
        run.results[name] = result
    return list(run.results.values())
