"""Check that every enabled mapping's dependencies exist and are enabled (e.g. CUSTOMER needs CURRENCY)."""

from __future__ import annotations

from bot.doctor.context import DoctorRun
from bot.doctor.result import MAPPING_DEPENDENCIES, CheckResult
from bot.sync.hints import PAGE_TABLE_MAPPINGS
from storage.mappings import list_mappings
from storage.models import Mapping


def load_mappings(run: DoctorRun) -> list[Mapping] | None:
    """The mappings given to the doctor, else those in the store; None when neither is available."""
    if run.mappings is None and run.session is not None:
        run.mappings = list_mappings(run.session)
    return run.mappings


def check_mapping_dependencies(run: DoctorRun) -> CheckResult:
    """Every enabled mapping's dependencies are mappings that exist and are enabled."""
    mappings = load_mappings(run)
    if mappings is None:
        return CheckResult(
            MAPPING_DEPENDENCIES,
            False,
            "Not checked: no store and no mappings were given.",
            "Run the doctor where the bot's database is reachable (DATABASE_URL).",
        )
    if not mappings:
        return CheckResult(MAPPING_DEPENDENCIES, True, "No mappings are configured yet.")
    by_name = {m.name.upper(): m for m in mappings}
    problems: list[str] = []
    fixes: list[str] = []
    for mapping in sorted(mappings, key=lambda m: (m.position, m.name)):
        if not mapping.enabled:
            continue
        for dependency in mapping.dependency_names():
            target = by_name.get(dependency.upper())
            if target is None:
                problems.append(f"{mapping.name} depends on {dependency}, which does not exist")
                fixes.append(
                    f"create the {dependency} mapping or remove it from {mapping.name}'s dependencies"
                )
            elif not target.enabled:
                problems.append(f"{mapping.name} depends on {target.name}, which is disabled")
                fixes.append(f"enable {target.name}")
            elif target.paused:
                problems.append(f"{mapping.name} depends on {target.name}, which is paused")
                fixes.append(f"resume {target.name} (`sync-errors resume {target.name}`)")
    enabled = [m.name for m in mappings if m.enabled]
    if problems:
        page = run.links.bc_page(PAGE_TABLE_MAPPINGS)
        where = f" (compare Integration Table Mappings, {page})" if page else ""
        return CheckResult(
            MAPPING_DEPENDENCIES,
            False,
            "; ".join(problems) + ".",
            "An admin must " + "; ".join(dict.fromkeys(fixes)) + where + ", so records find their "
            "dependencies coupled.",
        )
    return CheckResult(
        MAPPING_DEPENDENCIES, True, f"{len(enabled)} enabled mappings; every dependency is enabled."
    )
