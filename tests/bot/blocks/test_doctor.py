"""The doctor in Slack: the "checking" line and the report, one line per check with the fix when failing."""

from __future__ import annotations

import pytest

from bot.blocks import build_doctor_report, build_doctor_working
from bot.blocks.wording import Wording
from bot.doctor import CHECK_TITLES, CheckResult
from tests.bot.blocks.checks import all_text, valid_message

PASSING = CheckResult(check="bc-sign-in", ok=True, detail="signed in as sync@contoso")
FAILING = CheckResult(
    check="integration-user-role",
    ok=False,
    detail="sync@contoso lacks the role <Integration>",
    fix="Assign the role in Power Platform admin & try again",
)


def test_working_line() -> None:
    payload = valid_message(build_doctor_working())
    line = "🩺 Checking the integration setup… I will answer here."
    assert payload == {
        "text": line,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}}],
    }


def test_report_with_a_failing_check() -> None:
    payload = valid_message(build_doctor_report([PASSING, FAILING]))
    assert payload["text"] == "Integration setup: 1 check needs attention."
    assert payload["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "text": "Integration setup", "emoji": True}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "✅ *Sign-in to Business Central* — signed in as sync@contoso\n"
                "❌ *Integration user holds the integration role* — sync@contoso lacks the role "
                "&lt;Integration&gt;\n"
                "      Fix: Assign the role in Power Platform admin &amp; try again",
            },
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "1 check needs attention."}]},
    ]


def test_report_when_all_is_well_and_for_an_unknown_check() -> None:
    payload = valid_message(
        build_doctor_report([PASSING, CheckResult(check="new-check", ok=True, detail="ok")])
    )
    assert "✅ *new-check* — ok" in all_text(payload)
    assert payload["blocks"][-1]["elements"][0]["text"] == "All checks passed."


def test_a_long_report_stays_inside_slacks_limits() -> None:
    results = [FAILING] * 200
    payload = valid_message(build_doctor_report(results))
    assert payload["blocks"][-1]["elements"][0]["text"] == "200 checks need attention."


def test_the_slack_titles_are_the_terminal_titles() -> None:
    words = Wording("en")
    assert {check: words.check_title(check) for check in CHECK_TITLES} == CHECK_TITLES


@pytest.mark.parametrize(
    ("locale", "verdicts"),
    [
        (
            "cs",
            [
                "1 kontrola vyžaduje pozornost.",
                "3 kontroly vyžadují pozornost.",
                "5 kontrol vyžaduje pozornost.",
            ],
        ),
        (
            "nl",
            ["1 controle vraagt aandacht.", "3 controles vragen aandacht.", "5 controles vragen aandacht."],
        ),
    ],
)
def test_report_in_czech_and_dutch(locale: str, verdicts: list[str]) -> None:
    for count, verdict in zip((1, 3, 5), verdicts, strict=True):
        payload = valid_message(build_doctor_report([FAILING] * count, locale=locale))
        assert payload["blocks"][-1]["elements"][0]["text"] == verdict
    text = all_text(valid_message(build_doctor_report([PASSING], locale=locale)))
    assert "Sign-in to Business Central" not in text
    assert {"cs": "Přihlášení do Business Central", "nl": "Aanmelden bij Business Central"}[locale] in text
