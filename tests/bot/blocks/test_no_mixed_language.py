"""A Czech or Dutch reader sees no English of ours: every builder, hint and result, rendered in cs and nl."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from slack_sdk.models.views import View

from bot import blocks as b
from bot.blocks import Message
from bot.blocks.skipped import SkippedItem
from bot.blocks.wording import AdminAction, Problem
from bot.i18n import catalog_path
from bot.phrases import (
    PHRASES,
    RESOLUTIONS,
    SAID_FACT,
    Phrase,
    app,
    caption,
    link,
    noun,
    render,
    resolution_phrase,
    say,
)
from bot.sync.deleted import BOTH_GONE, RESTORED, UNCOUPLED
from bot.sync.engine import RESOLVED_BY_TRIGGER
from bot.sync.hints import AADSTS_PHRASES, Links, hint_phrase
from storage.models import Category, Coupling, ErrorStatus, JobType
from tests.bot.blocks.checks import all_text
from tests.bot.blocks.factory import T0, audit, error, job

READERS = ("cs", "nl")
WORK_KINDS = (
    "resync", "resync_failed", "couple", "couple_match", "couple_create", "couple_dependency", "uncouple",
    "restore_record", "delete_record", "keep_bc", "keep_dataverse", "sync", "run",
)  # fmt: skip
LINKS = Links(bc_web_url="https://bc.example/t/prod", dataverse_url="https://org.crm4.dynamics.com")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")

# Every variant of every hint: (category, facts).
HINT_CASES: list[tuple[Category, dict[str, Any]]] = [
    (Category.PERMISSIONS, {"system": "business_central"}),
    (Category.PERMISSIONS, {"privilege": "prvCreateAccount", "user_id": "u-1"}),
    (Category.PERMISSIONS, {"system": "dataverse"}),
    (Category.ADMIN_INTEGRATION_USER, {"user_name": "Integration", "user_id": "u-9"}),
    (Category.ADMIN_INTEGRATION_USER, {}),
    *[(Category.CREDENTIALS, {"aadsts": code}) for code in AADSTS_PHRASES],
    (Category.CREDENTIALS, {"system": "business_central"}),
    (Category.CREDENTIALS, {"system": "dataverse"}),
    (Category.CREDENTIALS, {}),
    (Category.EXCHANGE_RATE, {"currency_code": "DKK"}),
    (Category.EXCHANGE_RATE, {}),
    (
        Category.DELETED_RECORD,
        {
            "deleted_side": "dataverse",
            "deleted_table": "accounts",
            "surviving_side": "business_central",
            "surviving_table": "customers",
            "surviving_key": "10000",
        },
    ),
    (Category.DELETED_RECORD, {"deleted_side": "business_central", "surviving_side": "dataverse"}),
    (
        Category.DEPENDENCY_NOT_COUPLED,
        {"dependency_mapping": "SALESPEOPLE", "dependency_table": "salespeople", "dependency_key": "JO"},
    ),
    (Category.DEPENDENCY_NOT_COUPLED, {"dependency_table": "currencies"}),
    (
        Category.DEPENDENCY_NOT_COUPLED,
        {
            "missing_reference": True,
            "dependency_mapping": "CURRENCY",
            "dependency_table": "currencies",
            "dependency_key": "EUR",
            "missing_in": "dataverse",
        },
    ),
    (
        Category.DEPENDENCY_NOT_COUPLED,
        {"missing_reference": True, "dependency_mapping": "CONTACT", "dependency_table": "contacts"},
    ),
    (Category.UPDATE_CONFLICT, {}),
    (Category.UPDATE_CONFLICT, {"stale_etag": True}),
    (Category.THROTTLED, {"system": "dataverse", "retry_after": 30.0}),
    (Category.THROTTLED, {"system": "business_central"}),
    (Category.CONNECTION, {"system": "dataverse", "status": 503}),
    (Category.CONNECTION, {"system": "business_central"}),
    (Category.ADMIN_MODE, {}),
    (Category.VALIDATION, {}),
    *[(Category.VALIDATION, {"coupling_reason": reason}) for reason in ("already-coupled", "no-match", "x")],
    (Category.VALIDATION, {"coupling_reason": "several-matches"}),
    (Category.SEVERAL_MATCHES, {"candidate_table": "accounts"}),
    (Category.OTHER, {}),
]


@cache
def english_fragments(locale: str) -> frozenset[str]:
    """Runs of three or more English words of our messages that the locale's own words never contain."""
    with catalog_path("en").open("rb") as handle:
        english = read_po(handle, locale="en")
    with catalog_path(locale).open("rb") as handle:
        translated = read_po(handle, locale=locale)
    theirs = " ".join(
        text for m in translated if m.id for text in ([m.string] if isinstance(m.string, str) else m.string)
    )
    fragments: set[str] = set()
    for message in english:
        for source in [message.id] if isinstance(message.id, str) else message.id:
            for piece in _PLACEHOLDER.split(source or ""):
                words = piece.strip(string.whitespace + string.punctuation + "…—→↔").strip()
                if len(_WORD.findall(words)) >= 3 and words not in theirs:
                    fragments.add(words)
    return frozenset(fragments)


def english_in(text: str, locale: str) -> list[str]:
    """The English fragments of ours that `text` contains."""
    return sorted(fragment for fragment in english_fragments(locale) if fragment in text)


def _values(template: str | tuple[str, str]) -> dict[str, Any]:
    sources = (template,) if isinstance(template, str) else template
    names = {name for source in sources for name in re.findall(r"\{(\w+)\}", source)}
    return {name: 3 if name == "n" else f"X{index}" for index, name in enumerate(sorted(names))}


def every_phrase() -> Iterator[Phrase]:
    """Each phrase of bot.phrases with placeholder values, the hints with real facts, and the special ones."""
    for key, template in PHRASES.items():
        yield say(key, **_values(template))
    for category, facts in HINT_CASES:
        yield hint_phrase(category, facts, links=LINKS)
    for table in ("customers", "accounts", "salespeople", "currencies", "contacts", "products", "items"):
        yield noun(table)
        yield caption(table)
    yield app(None)
    yield link(say("term.coupled_data_errors"), "https://bc.example/?page=5333")


def _texts(built: Message | View | dict[str, Any] | list[Any] | str | None) -> str:
    if built is None:
        return ""
    if isinstance(built, str):
        return built
    if isinstance(built, Message | View):
        return all_text(built.to_dict())
    return all_text(built)


def every_message(locale: str) -> Iterator[tuple[str, Callable[[], Any]]]:
    """(name, build) for each message the builders make, over every category and state."""
    for category, facts in HINT_CASES:
        sample = error(category=category, facts=facts, source_url=None)
        name = f"{category}:{sorted(facts)}"
        yield f"error {name}", lambda s=sample: b.build_error_message(s, locale=locale)
        yield f"details {name}", lambda s=sample: b.build_error_details(s, locale=locale)
        yield f"cause {name}", lambda s=sample: b.build_cause_message(s, 12, locale=locale)
    resolved = error(status=ErrorStatus.RESOLVED, resolved_by="U1", resolved_at=T0)
    snoozed = error(status=ErrorStatus.SNOOZED, snoozed_until=T0 + timedelta(hours=4), resolved_by="U1")
    repeated = error(occurrences=4)
    many = [error(id=n, category=c) for n, c in enumerate(Category, start=1)]
    yield "repeat", lambda: b.build_repeat_reply(repeated, locale=locale)
    for key, template in PHRASES.items():
        if key.startswith("said."):  # the classifier's own messages, kept with the facts
            said = say(key, **_values(template))
            ours = error(message=render(said, "en"), facts={SAID_FACT: said.to_data()})
            yield f"message {key}", lambda e=ours: b.build_error_message(e, locale=locale)
            yield f"listed {key}", lambda e=ours: b.build_error_list([e], next_before_id=None, locale=locale)
            yield f"cause {key}", lambda e=ours: b.build_cause_message(e, 3, locale=locale)
    for how in RESOLUTIONS:
        for text in (how, f"{how} by U1"):
            done = error(status=ErrorStatus.RESOLVED, resolved_by="U1", resolved_at=T0, resolution=text)
            yield f"resolved {text}", lambda e=done: b.build_error_message(e, locale=locale)
    yield "state resolved", lambda: b.build_state_reply(resolved, locale=locale)
    yield "state snoozed", lambda: b.build_state_reply(snoozed, locale=locale)
    yield "digest", lambda: b.build_digest_message(many, locale=locale)
    yield "digest page", lambda: b.build_digest_page(many, page=2, pages=3, locale=locale)
    yield "list", lambda: b.build_error_list(many, next_before_id=3, locale=locale)
    yield "list empty", lambda: b.build_error_list([], next_before_id=None, locale=locale)
    counts = [("CUSTOMER", str(c), 2) for c in Category]
    jobs = [job(), job(type=JobType.COUPLING, finished_at=None, coupled=2), job(type=JobType.CLEANUP)]
    yield "summary", lambda: b.build_summary(counts, jobs, locale=locale)
    yield "summary empty", lambda: b.build_summary([], [], locale=locale)
    yield "help", lambda: b.build_help(locale=locale, unknown_word="frobnicate")
    yield "status", lambda: b.build_status(jobs, locale=locale)
    yield "audit", lambda: b.build_audit([audit(), audit(result="refused", door="terminal")], locale=locale)
    for action in AdminAction:
        yield f"refusal {action}", lambda a=action: b.build_refusal(a, admins=["U1", "U2"], locale=locale)
        yield f"refusal {action} nobody", lambda a=action: b.build_refusal(a, admins=[], locale=locale)
    yield "already done", lambda: b.build_already_done(audit(), locale=locale)
    yield "already resolved", lambda: b.build_already_done(resolved, locale=locale)
    yield "already snoozed", lambda: b.build_already_done(snoozed, locale=locale)
    yield "already open", lambda: b.build_already_done(error(), locale=locale)
    for kind in WORK_KINDS:
        yield f"queued {kind}", lambda k=kind: b.build_queued(k, "#17", locale=locale)
        yield (
            f"already queued {kind}",
            lambda k=kind: b.build_already_queued(k, "#17", by="U1", at=T0, running=True, locale=locale),
        )
    for problem in Problem:
        yield f"problem {problem}", lambda p=problem: b.build_problem(p, locale=locale)
        yield f"usage {problem}", lambda p=problem: b.build_usage_error(p, "purge --all", locale=locale)
    yield "entry deleted", lambda: b.build_entry_deleted(17, locale=locale)
    yield "purged", lambda: b.build_purged(5, announced=7, locale=locale)
    yield "snoozed", lambda: b.build_snoozed(17, T0, locale=locale)
    yield "interval", lambda: b.build_interval_set("CUSTOMER", timedelta(hours=1), locale=locale)
    yield "paused", lambda: b.build_paused("CUSTOMER", locale=locale)
    yield "resumed", lambda: b.build_resumed("CUSTOMER", locale=locale)
    yield "doctor working", lambda: b.build_doctor_working(locale=locale)
    for days in (None, 7):
        yield f"purge modal {days}", lambda d=days: b.build_purge_modal(12, d, locale=locale)
        yield f"purge modal none {days}", lambda d=days: b.build_purge_modal(0, d, locale=locale)
    yield "snooze modal", lambda: b.build_snooze_modal(error(), locale=locale)
    yield "couple modal", lambda: b.build_couple_modal(error(), locale=locale)
    skipped: list[SkippedItem] = [
        (
            Coupling(
                id=1,
                mapping="CUSTOMER",
                bc_table="customers",
                bc_id="b",
                dataverse_table="accounts",
                dataverse_id="d",
                bc_key="10000",
            ),
            error(),
        ),
        (
            Coupling(
                id=2,
                mapping="CUSTOMER",
                bc_table="customers",
                bc_id="c",
                dataverse_table="accounts",
                dataverse_id="e",
            ),
            None,
        ),
    ]
    yield "skipped", lambda: b.build_skipped_list(skipped, 2, locale=locale)
    yield "skipped none", lambda: b.build_skipped_list([], 0, locale=locale)
    yield (
        "home",
        lambda: b.build_home(
            counts,
            jobs,
            [("CUSTOMER", T0, False), ("CONTACT", None, True)],
            locale=locale,
            now=T0,
            skipped=skipped,
            skipped_total=2,
        ),
    )
    for phrase in every_phrase():
        yield f"result {phrase.key}", lambda p=phrase: b.build_action_result(True, p, locale=locale)
        yield f"failure {phrase.key}", lambda p=phrase: b.build_action_result(False, p, locale=locale)


@pytest.mark.parametrize("locale", READERS)
def test_no_message_of_the_builders_mixes_in_english(locale: str) -> None:
    mixed = {}
    for name, build in every_message(locale):
        found = english_in(_texts(build()), locale)
        if found:
            mixed[name] = found
    assert not mixed, f"{locale}: English in {mixed}"


@pytest.mark.parametrize("locale", READERS)
def test_every_phrase_is_worded_in_the_readers_language(locale: str) -> None:
    for phrase in every_phrase():
        words = render(phrase, locale)
        assert not english_in(words, locale), (phrase.key, words)


def test_the_check_would_see_english() -> None:
    english = render(hint_phrase(Category.UPDATE_CONFLICT, {}), "en")
    assert english_in(english, "cs") and english_in(english, "nl")
    assert english_in(b.build_action_result(False, "it broke", locale="cs").text, "cs") == []
    assert "That did not work" in " ".join(english_in(b.build_action_result(False, "it broke").text, "cs"))
    assert english_in(render(say("action.both_gone"), "en"), "nl")


@pytest.mark.parametrize(
    "stored",
    [*RESOLVED_BY_TRIGGER.values(), RESTORED, UNCOUPLED, BOTH_GONE, "Synchronized on a later run",
     "The sign-in and the integration user's check passed", "Re-synchronized by U0123ABC",
     "Kept the Dataverse values by U1", "Removed the coupling by terminal:ann"],
)  # fmt: skip
def test_the_stored_resolutions_have_words(stored: str) -> None:
    assert resolution_phrase(stored) is not None, stored


def test_a_foreign_resolution_stays_as_stored() -> None:
    assert resolution_phrase("fixed by hand") is None


def test_every_phrase_said_in_the_code_has_words() -> None:
    root = Path(__file__).resolve().parents[3] / "bot"
    said = {
        key
        for path in root.rglob("*.py")
        for key in re.findall(r"\bsay\(\s*\"([\w.]+)\"", path.read_text(encoding="utf-8"))
    }
    assert len(said) > 100 and said <= set(PHRASES), sorted(said - set(PHRASES))
