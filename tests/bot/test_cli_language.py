"""The terminal speaks the reader's language: --lang, else LC_ALL, LC_MESSAGES or LANG; English otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.common import _LANGUAGE, terminal_locale
from bot.cli.sync import report
from bot.phrases import say
from bot.sync.actions import ActionOutcome

_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture(autouse=True)
def no_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No language chosen: neither --lang nor the environment."""
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
    _LANGUAGE.clear()
    yield
    _LANGUAGE.clear()


@pytest.mark.parametrize(
    ("variables", "locale"),
    [
        ({}, "en"),
        ({"LANG": "cs_CZ.UTF-8"}, "cs"),
        ({"LANG": "nl_BE.UTF-8"}, "nl"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "cs_CZ.UTF-8", "LC_ALL": "nl_NL.UTF-8"}, "nl"),
        ({"LANG": "nl_NL.UTF-8", "LC_MESSAGES": "cs_CZ"}, "cs"),
        ({"LANG": "nl_NL.UTF-8", "LC_ALL": "C"}, "nl"),
    ],
)
def test_the_environment_chooses_the_language(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], locale: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert terminal_locale() == locale


def test_lang_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    result = CliRunner().invoke(app, ["--lang", "cs", "help"])
    assert result.exit_code == 0 and "Jak používat sync-errors" in result.output


def test_help_follows_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    assert "Zo gebruikt u sync-errors" in CliRunner().invoke(app, ["help"]).output
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert "How to use sync-errors" in CliRunner().invoke(app, ["help"]).output


def test_an_unknown_language_is_bad_usage() -> None:
    result = CliRunner().invoke(app, ["--lang", "de", "help"])
    assert result.exit_code == 2 and "--lang takes one of en, cs, nl" in result.output


def test_results_are_worded_for_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    _LANGUAGE.append("cs")
    report(ActionOutcome(True, say("action.restored")))
    assert "Odstraněný záznam byl obnoven." in capsys.readouterr().out
    _LANGUAGE[:] = ["nl"]
    with pytest.raises(typer.Exit) as exit_:
        report(ActionOutcome(False, say("action.both_gone"), refused=True))
    assert exit_.value.exit_code == 2
    assert "Beide gekoppelde records zijn weg" in capsys.readouterr().err


def test_refusals_and_the_error_label_are_worded_for_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli.common import friendly
    from bot.operations.base import NotFound

    @friendly
    def refused() -> None:
        raise NotFound(say("failure.no_entry", id=17))

    _LANGUAGE.append("cs")
    with pytest.raises(typer.Exit) as exit_:
        refused()
    assert exit_.value.exit_code == 2
    assert "Chyba: Položka chyby č. 17 neexistuje" in capsys.readouterr().err
    _LANGUAGE[:] = ["nl"]
    with pytest.raises(typer.Exit):
        refused()
    assert "Fout: Er is geen foutvermelding #17" in capsys.readouterr().err


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine) -> int:
    """A store holding one open, one resolved and one snoozed error; its open error's id."""
    from sqlmodel import Session

    from storage.models import ErrorStatus
    from tests.bot.blocks.factory import error

    with Session(engine) as session:
        session.add(error())
        session.add(error(id=18, fingerprint="fp-18", status=ErrorStatus.RESOLVED, resolution="Re-synced"))
        session.commit()
    monkeypatch.setenv("DATABASE_URL", database_url)
    return 17


_COMMANDS = [
    ["list"],
    ["list", "--status", "snoozed"],
    ["list", "--status", "all"],
    ["list", "--status", "nope"],
    ["list", "--category", "nope"],
    ["list", "--skipped"],
    ["list", "--skipped", "--status", "all"],
    ["show", "17"],
    ["show", "18"],
    ["purge"],
    ["purge", "--older-than", "7d"],
    ["purge", "--older-than", "1000d"],
    ["snooze", "17", "1d"],
    ["audit"],
    ["audit", "18"],
    ["status"],
    ["sync", "--full", "--find-deleted"],
    ["schedule", "CUSTOMER", "every", "30m"],
    ["pause", "CUSTOMER"],
    ["resume", "CUSTOMER"],
    ["schedule"],
    ["schedule", "CUSTOMER", "each", "30m"],
    ["mappings"],
    ["mappings", "CUSTOMER", "put", "x", "y"],
    ["mappings", "CUSTOMER", "set", "nope", "y"],
    ["mappings", "NOPE", "set", "update_conflict", "bc"],
    ["mappings", "CUSTOMER", "set", "update_conflict", "bc"],
    ["db", "upgrade"],
    ["serve", "--socket", "--http"],
]


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("locale", ["cs", "nl"])
@pytest.mark.parametrize("words", _COMMANDS, ids=" ".join)
def test_the_error_logs_sentences_are_worded_for_the_terminal(locale: str, words: list[str]) -> None:
    from tests.bot.blocks.test_no_mixed_language import english_in

    result = CliRunner().invoke(app, ["--lang", locale, *words])
    assert not english_in(result.output, locale), result.output


@pytest.mark.usefixtures("seeded")
def test_the_error_logs_sentences_stay_english_for_an_english_reader() -> None:
    run = CliRunner()
    assert "No snoozed errors." in run.invoke(app, ["list", "--status", "snoozed"]).output
    assert "give either --older-than DURATION or --all" in run.invoke(app, ["purge"]).output
    assert "Nothing to delete: there are no error entries not seen for 1000d." in (
        run.invoke(app, ["purge", "--older-than", "1000d"]).output
    )
    assert "Deleted 2 error entries." in run.invoke(app, ["purge", "--all", "--yes"]).output
