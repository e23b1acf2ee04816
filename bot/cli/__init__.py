"""The `sync-errors` command line (Typer + rich): the same words as `/sync-errors` in Slack."""

# isort: off
# Each module registers its commands; the import order is the order `sync-errors --help` lists them in.
from bot.cli import error_commands, sync, schedule, mappings, operate, helptext  # noqa: F401

# isort: on
from bot.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
