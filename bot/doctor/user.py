"""Checks of the Dataverse integration user: not an admin, integration role, enabled, non-interactive."""

from __future__ import annotations

from bot.connectors.models import SystemUser
from bot.doctor.context import DoctorRun
from bot.doctor.result import (
    DATAVERSE_API,
    USER_ENABLED,
    USER_NON_INTERACTIVE,
    USER_NOT_ADMIN,
    USER_ROLE,
    CheckResult,
)
from bot.phrases import Phrase, Value, link, say
from bot.sync.hints import INTEGRATION_ROLE, POWER_PLATFORM_ADMIN_URL, SYSTEM_ADMINISTRATOR_ROLE, hint_phrase
from storage.models import Category

# Business Central accepts the current role name and the one it had before Dataverse was renamed.
INTEGRATION_ROLES = (INTEGRATION_ROLE.lower(), "business central cds integration")
NON_INTERACTIVE = 4
ACCESS_MODES = {0: "read_write", 1: "administrative", 2: "read", 3: "support_user", 4: "non_interactive",
                5: "delegated_admin"}  # fmt: skip


def integration_user(run: DoctorRun, check: str) -> SystemUser | CheckResult:
    """The integration user (WhoAmI + roles), loaded once; a failed result when it cannot be read."""
    if run.user is not None:
        return run.user
    blocked = run.blocked(check, DATAVERSE_API)
    if blocked or run.who is None:
        return blocked or CheckResult(check, False, say("doctor.no_user"), say("doctor.run_again"))
    try:
        run.user = run.dataverse.get_user(run.who.user_id)
    except Exception as error:  # noqa: BLE001
        client_id = run.settings.azure_client_id
        try:
            found = run.dataverse.find_application_user(client_id) if client_id else None
        except Exception:  # noqa: BLE001
            found = None
        if found is None:
            return run.failure(check, say("doctor.user_unreadable", user=run.who.user_id), error)
        run.user = found
    return run.user


def user_label(run: DoctorRun, user: SystemUser) -> Phrase:
    """The user's name with a link to its Dataverse record (where its security roles are)."""
    return link(user.fullname or user.id, run.links.dataverse_user(user.id))


def check_user_not_admin(run: DoctorRun) -> CheckResult:
    """Business Central refuses an integration user with the System Administrator role."""
    user = integration_user(run, USER_NOT_ADMIN)
    if isinstance(user, CheckResult):
        return user
    if any(role.lower() == SYSTEM_ADMINISTRATOR_ROLE.lower() for role in user.roles):
        server = run.dataverse_url or "Dataverse"
        facts = {"user_name": user.fullname, "user_id": user.id}
        return CheckResult(
            USER_NOT_ADMIN,
            False,
            say("said.admin_user", user=user.fullname, server=server),
            hint_phrase(Category.ADMIN_INTEGRATION_USER, facts, links=run.links),
        )
    return CheckResult(USER_NOT_ADMIN, True, say("doctor.not_admin", user=user.fullname))


def check_user_role(run: DoctorRun) -> CheckResult:
    """The integration user holds "Business Central Dataverse Integration" (or its older CDS name)."""
    user = integration_user(run, USER_ROLE)
    if isinstance(user, CheckResult):
        return user
    held = [role for role in user.roles if role.lower() in INTEGRATION_ROLES]
    if held:
        return CheckResult(USER_ROLE, True, say("doctor.holds_role", user=user.fullname, role=held[0]))
    roles: Value = ", ".join(user.roles) or say("doctor.no_roles")
    server = run.dataverse_url or "Dataverse"
    return CheckResult(
        USER_ROLE,
        False,
        say("doctor.lacks_role", user=user.fullname, server=server, roles=roles, role=INTEGRATION_ROLE),
        say("doctor.lacks_role_fix", user=user_label(run, user), role=INTEGRATION_ROLE),
    )


def check_user_enabled(run: DoctorRun) -> CheckResult:
    """The integration user is not disabled."""
    user = integration_user(run, USER_ENABLED)
    if isinstance(user, CheckResult):
        return user
    if user.is_disabled:
        return CheckResult(
            USER_ENABLED,
            False,
            say("doctor.disabled", user=user.fullname, server=run.dataverse_url or "Dataverse"),
            say("doctor.disabled_fix", user=user_label(run, user), url=POWER_PLATFORM_ADMIN_URL),
        )
    return CheckResult(USER_ENABLED, True, say("doctor.enabled", user=user.fullname))


def check_user_non_interactive(run: DoctorRun) -> CheckResult:
    """The integration user has access mode Non-interactive (4), so it needs no licence and cannot sign in."""
    user = integration_user(run, USER_NON_INTERACTIVE)
    if isinstance(user, CheckResult):
        return user
    name = ACCESS_MODES.get(user.access_mode)
    mode: Value = say(f"access_mode.{name}") if name else str(user.access_mode)
    if user.access_mode != NON_INTERACTIVE:
        return CheckResult(
            USER_NON_INTERACTIVE,
            False,
            say("doctor.access_mode", user=user.fullname, mode=mode, server=run.dataverse_url or "Dataverse"),
            say("doctor.access_mode_fix", url=POWER_PLATFORM_ADMIN_URL, user=user_label(run, user)),
        )
    return CheckResult(
        USER_NON_INTERACTIVE, True, say("doctor.has_access_mode", user=user.fullname, mode=mode)
    )
