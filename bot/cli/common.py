"""Shared pieces of the command line: the Typer app, consoles, one-line failures, the store."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import wraps
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import httpx
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

from bot.blocks.wording import Word, Wording
from bot.commands import USAGE, UsageError, parse_duration, usage_line
from bot.config import SUPPORTED_DATABASES, Settings, SettingsError, load_settings
from bot.i18n import DEFAULT_LOCALE, LOCALES, normalize_locale
from bot.logs import configure_logging
from bot.operations.base import Actor, InvalidInput, NotAllowed, NotFound, OperationError
from bot.phrases import Phrase, Value, render, say
from bot.services import open_store
from storage.models import Door
from storage.schema import SchemaOutdated

EXIT_FAILED = 1
EXIT_USAGE = 2


def _no_type(**_context: Any) -> None:
    return None


def _tidy_help(params: list[Any]) -> None:
    """No `<bool>` beside flags, no `<list[str]>` beside arguments: the names and help say it."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif getattr(param, "param_type_name", "") == "argument":
            param.display_type_rich = _no_type  # typer has no switch for the type column


class CliCommand(TyperCommand):
    """A command whose help shows the grammar's usage line (bot/commands.py) and no Python types."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """The usage line of the shared grammar when it knows the command."""
        if self.name in USAGE:
            return [USAGE[self.name].split(" ", 1)[1]] if " " in USAGE[self.name] else []
        return list(super().collect_usage_pieces(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """Typer's rich help, tidied."""
        _tidy_help(self.get_params(ctx))
        super().format_help(ctx, formatter)


class CliGroup(TyperGroup):
    """The top-level group: help tidied the same way, wrong words answered like ours (one Error line)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """Typer's rich help, tidied."""
        _tidy_help(self.get_params(ctx))
        super().format_help(ctx, formatter)

    def main(self, args: Any = None, prog_name: str | None = None, **options: Any) -> Any:  # type: ignore[override]
        """Run; the parser's refusals (bad option, not a number, no such command) become one line + usage."""
        if not options.pop("standalone_mode", True):
            return super().main(args, prog_name, standalone_mode=False, **options)
        try:
            code = super().main(args, prog_name, standalone_mode=False, **options)
        except typer.TyperException as error:  # click's ClickException and UsageError
            context = getattr(error, "ctx", None)
            if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
                out.print(context.get_help(), markup=False, highlight=False)
                sys.exit(EXIT_USAGE)
            err.print(
                f"[bold red]{label(Word.CLI_ERROR)}[/] {escape(error.format_message())}", highlight=False
            )
            if context is not None:
                err.print(_usage_of(context), highlight=False, markup=False)
            sys.exit(getattr(error, "exit_code", EXIT_USAGE))
        except typer.Abort:
            err.print(label(Word.CLI_ABORTED), highlight=False)
            sys.exit(EXIT_FAILED)
        sys.exit(code if isinstance(code, int) else 0)


def _usage_of(context: Any) -> str:
    """The grammar's usage line of the failing command, or click's."""
    name = getattr(context.command, "name", None)
    if name in USAGE:
        return f"{label(Word.CLI_USAGE)} {usage_line(name, 'sync-errors')}"
    if context.parent is None:
        return f"{label(Word.CLI_USAGE)} sync-errors COMMAND [ARGS]... ({words('cli.help_lists')})"
    return str(context.get_usage()) + f"\nTry '{context.command_path} --help' for help."


class CliApp(typer.Typer):
    """A Typer app whose commands are CliCommands."""

    def command(  # type: ignore[override]
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **options: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        """Register a command (a CliCommand unless told otherwise)."""
        return super().command(name, cls=cls or CliCommand, **options)


app = CliApp(
    name="sync-errors",
    help="Runs the Business Central <-> Dataverse synchronization and brings its errors to Slack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=CliGroup,
)
_LANGUAGE: list[str] = []  # what --lang chose, when given
_LANGUAGE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def terminal_locale() -> str:
    """The terminal reader's language: --lang, else LC_ALL, LC_MESSAGES or LANG (en, cs, nl; else English)."""
    if _LANGUAGE:
        return _LANGUAGE[-1]
    for name in _LANGUAGE_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value and value not in ("C", "POSIX"):  # the first one set decides, as in gettext
            return normalize_locale(value.split(".", 1)[0])
    return DEFAULT_LOCALE


@app.callback()
def _global_options(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", metavar="en|cs|nl", help="The language of results and hints (default: from LANG)."
        ),
    ] = None,
) -> None:
    _LANGUAGE.clear()
    if lang is None:
        return
    if lang.strip().lower() not in LOCALES:
        fail(words("cli.lang_choices", choices=", ".join(LOCALES), given=repr(lang)), code=EXIT_USAGE)
    _LANGUAGE.append(lang.strip().lower())


db_app = CliApp(help="Database maintenance.", no_args_is_help=True, cls=CliGroup)
app.add_typer(db_app, name="db", rich_help_panel="Running the bot")

# Words wrap at the terminal's width (COLUMNS when set); piped output without COLUMNS gets 120 columns.
PIPE_WIDTH = 120
out = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, *, code: int = EXIT_FAILED, usage: str | None = None) -> NoReturn:
    """Print one clear line (and the usage line) on stderr and exit with `code`."""
    err.print(f"[bold red]{label(Word.CLI_ERROR)}[/] {escape(message)}", highlight=False)
    if usage:
        err.print(f"{label(Word.CLI_USAGE)} {usage}", highlight=False, markup=False)
    raise typer.Exit(code)


def label(word: Word) -> str:
    """A fixed word of the terminal (a label, a table header) in the reader's language."""
    return Wording(terminal_locale()).word(word)


def words(key: str, /, **values: Value | None) -> str:
    """The terminal's own sentence `key` (a phrase of bot.phrases) in the reader's language."""
    return render(say(key, **values), terminal_locale())


def count(value: int) -> str:
    """A count with the reader's digit grouping (1,234 in English)."""
    return Wording(terminal_locale()).number(value)


def said(error: OperationError) -> str:
    """What an operation's refusal says, in the terminal reader's language."""
    words = error.said
    return render(words, terminal_locale()) if isinstance(words, Phrase) else words


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the bot's expected failures into one line and the contract's exit codes, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SettingsError as error:
            fail(words("cli.configuration", problem=str(error)), code=EXIT_USAGE)
        except UsageError as error:
            fail(error.problem, code=EXIT_USAGE, usage=error.usage)
        except (InvalidInput, NotFound) as error:
            fail(said(error), code=EXIT_USAGE)
        except (NotAllowed, OperationError) as error:
            fail(said(error))
        except SchemaOutdated as error:
            fail(str(error))
        except (ArgumentError, NoSuchModuleError, ModuleNotFoundError):
            fail(words("cli.database_url", databases=SUPPORTED_DATABASES), code=EXIT_USAGE)
        except OperationalError as error:
            fail(words("cli.no_database", reason=_first_line(error.orig)))
        except httpx.HTTPError as error:
            fail(words("cli.no_reach", host=_host(error), reason=_first_line(error)))

    return wrapper


def _first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _host(error: httpx.HTTPError) -> str:
    try:
        return str(error.request.url.host) or words("cli.the_service")
    except RuntimeError:  # no request attached
        return words("cli.the_service")


def stdin_is_terminal() -> bool:
    """True when a person can answer a prompt (stdin open and a terminal)."""
    try:
        return sys.stdin is not None and not sys.stdin.closed and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def confirm(question: str, *, yes: bool, what: str) -> None:
    """Ask `question` at a terminal; without one (or on no) refuse, exit 2 and change nothing.

    `what` names the change in a few words ("deleting 664 error entries") for the refusal sentence.
    """
    if yes:
        return
    if not stdin_is_terminal():
        fail(words("cli.needs_yes", what=what), code=EXIT_USAGE)
    try:
        agreed = typer.confirm(question, default=False)
    except typer.Abort:
        agreed = False
    if not agreed:
        fail(words("cli.not_confirmed", what=what), code=EXIT_USAGE)


def terminal_actor() -> Actor:
    """The person at the terminal: an operator with the database in hand, so an admin."""
    try:
        name = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        name = "terminal"
    return Actor(id=name, door=Door.TERMINAL, is_admin=True)


@contextmanager
def store() -> Iterator[tuple[Settings, Engine]]:
    """Load the settings and open a migrated store for one command."""
    settings = load_settings()
    configure_logging(settings.log_level.value, settings.log_format.value)
    engine = open_store(settings)
    try:
        yield settings, engine
    finally:
        engine.dispose()


def new_table(*, caption: str | None = None) -> Table:
    """A borderless table that fits 80 columns: short columns never wrap, long ones wrap at words."""
    return Table(
        box=box.SIMPLE_HEAD,
        header_style="bold",
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        caption=caption,
        caption_justify="left",
        caption_style="dim",
    )


def is_wide() -> bool:
    """Whether the output has room for the wide layouts (120 columns or more)."""
    return out.width >= 120


def print_json(data: Any) -> None:
    """Write JSON to stdout (no colours, no wrapping)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def usage(subcommand: str) -> str:
    """The usage line of a subcommand, as the terminal writes it."""
    return usage_line(subcommand, "sync-errors")


def duration_option(text: str, *, usage: str) -> timedelta:
    """Parse a DURATION option with the grammar's rules; a bad one is a usage error (exit 2)."""
    try:
        return parse_duration(text)
    except ValueError as error:
        raise UsageError(str(error), usage) from None


def known_mapping(name: str, *, usage: str) -> str:
    """The canonical name of a mapping; an unknown one is a usage error listing the known ones."""
    from bot.sync.mappings import SPECS

    canonical = name.strip().upper()
    if canonical not in SPECS:
        raise UsageError(words("cli.no_mapping", name=repr(name), known=", ".join(SPECS)), usage)
    return canonical


def known_error(error_id: int) -> str:
    """Check that error #ID exists (NotFound, exit 2, otherwise); return its record in a few words."""
    from bot.operations.error_entries import load_error

    with store() as (_settings, engine):
        error = load_error(engine, error_id=error_id)
    key = error.source_key or error.source_id or "?"
    return f"{error.mapping} {error.source_table} {key}" + (
        f" {error.source_name}" if error.source_name else ""
    )


def valid_ref(text: str) -> str:
    """Check a record reference's form before anything is asked or changed (exit 2 with the forms)."""
    from bot.sync.refs import BadReference, parse_ref

    try:
        parse_ref(text)
    except BadReference as error:
        raise InvalidInput(str(error)) from None
    return text
