"""The terminal speaks the reader's language: --lang, else LC_ALL, LC_MESSAGES or LANG; English otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
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
