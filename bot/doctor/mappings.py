"""Check that every enabled mapping's dependencies exist and are enabled (e.g. CUSTOMER needs CURRENCY)."""

from __future__ import annotations

from bot.doctor.context import DoctorRun
from bot.doctor.result import MAPPING_DEPENDENCIES, CheckResult
from bot.phrases import Phrase, Value, english, joined, say
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
            say("doctor.no_mappings_given"),
            say("doctor.no_database_fix"),
        )
    if not mappings:
        return CheckResult(MAPPING_DEPENDENCIES, True, say("doctor.no_mappings"))
    by_name = {m.name.upper(): m for m in mappings}
    problems: list[Value] = []
    fixes: dict[str, Phrase] = {}  # by their English: each fix once
    for mapping in sorted(mappings, key=lambda m: (m.position, m.name)):
        if not mapping.enabled:
            continue
        for dependency in mapping.dependency_names():
            target = by_name.get(dependency.upper())
            if target is None:
                problems.append(say("doctor.depends_missing", mapping=mapping.name, dependency=dependency))
                _add(fixes, say("doctor.create_mapping", mapping=mapping.name, dependency=dependency))
            elif not target.enabled:
                problems.append(say("doctor.depends_disabled", mapping=mapping.name, dependency=target.name))
                _add(fixes, say("doctor.enable_mapping", mapping=target.name))
            elif target.paused:
                problems.append(say("doctor.depends_paused", mapping=mapping.name, dependency=target.name))
                _add(fixes, say("doctor.resume_mapping", mapping=target.name))
    enabled = [m.name for m in mappings if m.enabled]
    if problems:
        page = run.links.bc_page(PAGE_TABLE_MAPPINGS)
        steps = joined(list(fixes.values()))
        return CheckResult(
            MAPPING_DEPENDENCIES,
            False,
            say("doctor.sentence", text=joined(problems)),
            say("doctor.dependencies_fix_page", fixes=steps, page=page)
            if page
            else say("doctor.dependencies_fix", fixes=steps),
        )
    return CheckResult(MAPPING_DEPENDENCIES, True, say("doctor.dependencies_enabled", n=len(enabled)))


def _add(fixes: dict[str, Phrase], fix: Phrase) -> None:
    fixes.setdefault(english(fix), fix)
