"""State shared by the checks of one doctor run: the apps, what earlier checks found, errors as text."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from bot.config import Settings
from bot.connectors.errors import Throttled
from bot.connectors.links import business_central_web_url_from_api
from bot.connectors.models import SystemUser, WhoAmI
from bot.doctor.ports import BusinessCentralApi, DataverseApi, TokenSource
from bot.doctor.result import CHECK_TITLES, CheckResult
from bot.phrases import ADVICE_FACT, PHRASES, SAID_FACT, Phrase, say
from bot.sync.classify import ClassifyContext, classify
from bot.sync.hints import Links
from storage.models import Mapping


@dataclass
class DoctorRun:
    """Inputs of a doctor run and what its checks learnt so far."""

    settings: Settings
    bc: BusinessCentralApi
    dataverse: DataverseApi
    tokens: TokenSource
    session: Session | None = None
    mappings: list[Mapping] | None = None
    results: dict[str, CheckResult] = field(default_factory=dict)
    throttled: list[tuple[str, Throttled]] = field(default_factory=list)
    calls_answered: int = 0
    who: WhoAmI | None = None
    user: SystemUser | None = None

    @property
    def dataverse_url(self) -> str | None:
        """Dataverse environment URL, from the settings or the client."""
        url = self.settings.dataverse_url or getattr(self.dataverse, "environment_url", None)
        return str(url) if url else None

    @property
    def bc_web_url(self) -> str | None:
        """Base of Business Central web-client links, from the settings, the client or the API URL."""
        url = self.settings.bc_web_url or getattr(self.bc, "web_url", None)
        if not url and self.settings.bc_api_url:
            url = business_central_web_url_from_api(self.settings.bc_api_url)
        return str(url) if url else None

    @property
    def links(self) -> Links:
        """Link builder for fixes."""
        return Links(bc_web_url=self.bc_web_url, dataverse_url=self.dataverse_url)

    def passed(self, check: str) -> bool:
        """True when `check` ran and passed."""
        result = self.results.get(check)
        return result is not None and result.ok

    def blocked(self, check: str, *prerequisites: str) -> CheckResult | None:
        """A "not checked" result when a prerequisite failed, else None."""
        for prerequisite in prerequisites:
            if not self.passed(prerequisite):
                title = check_title(prerequisite)
                return CheckResult(
                    check,
                    False,
                    say("doctor.blocked", title=title),
                    say("doctor.blocked_fix", title=title),
                )
        return None

    def failure(self, check: str, what: Phrase, error: BaseException) -> CheckResult:
        """A failed result for an error: the classifier's message as detail and its hint as fix."""
        if isinstance(error, Throttled):
            self.throttled.append((check, error))
        context = ClassifyContext(
            mapping="",
            direction="",
            source_table="",
            destination_table="",
            dataverse_url=self.dataverse_url,
            bc_web_url=self.bc_web_url,
        )
        result = classify(error, context=context)
        meaning = result.facts.get("meaning")
        code = f" [{result.code}]" if result.code and result.code not in result.message else ""
        extra = f" ({meaning})" if meaning and str(meaning) not in result.message else ""
        message = Phrase.from_data(result.facts.get(SAID_FACT)) or result.message
        advice = Phrase.from_data(result.facts.get(ADVICE_FACT)) or result.hint
        return CheckResult(
            check, False, say("doctor.failed", what=what, message=message, more=code + extra), advice
        )


def check_title(check: str) -> Phrase | str:
    """The title of a check as a phrase (its id when it has none)."""
    key = f"check.{check}"
    return say(key) if check in CHECK_TITLES and key in PHRASES else check
