"""One doctor check's outcome and its JSON shape (CONTRACT.md: `{"check", "ok", "detail", "fix"}`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.phrases import Phrase, english

BC_SIGN_IN = "bc-sign-in"
DATAVERSE_SIGN_IN = "dataverse-sign-in"
BC_API = "bc-api"
DATAVERSE_API = "dataverse-api"
USER_NOT_ADMIN = "integration-user-not-admin"
USER_ROLE = "integration-user-role"
USER_PRIVILEGES = "integration-user-privileges"
USER_ENABLED = "integration-user-enabled"
USER_NON_INTERACTIVE = "integration-user-non-interactive"
CURRENCIES = "currencies"
MAPPING_DEPENDENCIES = "mapping-dependencies"
THROTTLING = "throttling"
SKIPPED_COUPLINGS = "skipped-couplings"

# Human titles of the checks, in the order the doctor runs them (for terminal and Slack output).
CHECK_TITLES: dict[str, str] = {
    BC_SIGN_IN: "Sign-in to Business Central",
    DATAVERSE_SIGN_IN: "Sign-in to Dataverse",
    BC_API: "Business Central API and company",
    DATAVERSE_API: "Dataverse API (not in administration mode)",
    USER_NOT_ADMIN: "Integration user is not a System Administrator",
    USER_ROLE: "Integration user holds the integration role",
    USER_PRIVILEGES: "Integration user holds the privileges the mappings need",
    USER_ENABLED: "Integration user is enabled",
    USER_NON_INTERACTIVE: "Integration user is non-interactive",
    CURRENCIES: "Customers' currencies are coupled and have exchange rates",
    MAPPING_DEPENDENCIES: "Mapping dependencies are enabled",
    THROTTLING: "No throttling",
    SKIPPED_COUPLINGS: "No coupling is Skipped",
}


@dataclass(frozen=True, init=False)
class CheckResult:
    """Outcome of one check: whether it passed, what was found, and how to fix it ("" when ok).

    Given phrases, `found` and `fixed_by` keep them (the edge words them in the reader's language);
    `detail` and `fix` are always the English, as CONTRACT.md's JSON gives them.
    """

    check: str
    ok: bool
    detail: str
    fix: str
    found: Phrase | str
    fixed_by: Phrase | str

    def __init__(self, check: str, ok: bool, detail: Phrase | str, fix: Phrase | str = "") -> None:
        for name, value in (
            ("check", check),
            ("ok", ok),
            ("detail", english(detail) if isinstance(detail, Phrase) else detail),
            ("fix", english(fix) if isinstance(fix, Phrase) else fix),
            ("found", detail),
            ("fixed_by", fix),
        ):
            object.__setattr__(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        """The CONTRACT.md JSON object of this result."""
        return {"check": self.check, "ok": self.ok, "detail": self.detail, "fix": "" if self.ok else self.fix}


def format_checks_json(results: Iterable[CheckResult]) -> list[dict[str, Any]]:
    """The `sync-errors doctor --json` array: one `{"check", "ok", "detail", "fix"}` object per check."""
    return [result.as_dict() for result in results]
