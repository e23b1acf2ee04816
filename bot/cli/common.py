"""Shared pieces of the command line: the Typer app, consoles, one-line failures, the store."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.commands import UsageError, parse_duration, usage_line
from bot.config import Settings, SettingsError, load_settings
from bot.logs import configure_logging
from bot.operations.base import Actor, InvalidInput, NotAllowed, OperationError
from bot.store import open_store
from storage.models import Door
from storage.schema import SchemaOutdated

EXIT_FAILED = 1
EXIT_USAGE = 2

app = typer.Typer(
    name="sync-errors",
    help="Runs the Business Central <-> Dataverse synchronization and brings its errors to Slack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db", rich_help_panel="Running the bot")

out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, *, code: int = EXIT_FAILED, usage: str | None = None) -> NoReturn:
    """Print one clear line (and the usage line) on stderr and exit with `code`."""
    err.print(f"[bold red]Error:[/] {message}", highlight=False)
    if usage:
        err.print(f"Usage: {usage}", highlight=False)
    raise typer.Exit(code)


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the bot's expected failures into one line and the contract's exit codes, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SettingsError as error:
            fail(f"configuration: {error}", code=EXIT_USAGE)
        except UsageError as error:
            fail(error.problem, code=EXIT_USAGE, usage=error.usage)
        except InvalidInput as error:
            fail(str(error), code=EXIT_USAGE)
        except (NotAllowed, OperationError, SchemaOutdated) as error:
            fail(str(error))
        except OperationalError as error:
            fail(f"cannot use the database: {str(error.orig).strip().splitlines()[0]}")

    return wrapper


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
