"""Terminal commands of the schedule: list, interval, pause, resume, run."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import Engine

from bot.cli.common import (
    app,
    duration_option,
    friendly,
    out,
    print_json,
    store,
    terminal_actor,
    usage,
)
from bot.cli.sync import sync_command
from bot.commands import UsageError
from bot.jsonshapes import schedule_json

# ---- schedule ---------------------------------------------------------------------------------------------

PANEL = "Schedule"


def _seeded(engine: Engine) -> None:
    from bot.sync.mappings import seed_default_mappings
    from storage.db import session_scope

    with session_scope(engine) as session:
        seed_default_mappings(session)


@app.command("schedule", rich_help_panel=PANEL)
@friendly
def schedule_command(
    words: Annotated[list[str] | None, typer.Argument(metavar="[MAPPING every DURATION]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of scheduled jobs.")] = False,
) -> None:
    """List the scheduled jobs, or change how often a mapping syncs: `schedule CUSTOMER every 15m`."""
    from bot.operations import schedule

    with store() as (settings, engine):
        _seeded(engine)
        if words:
            if len(words) != 3 or words[1].lower() != "every":
                raise UsageError("write it as: schedule MAPPING every DURATION", usage("schedule"))
            every = duration_option(words[2], usage=usage("schedule"))
            mapping = schedule.set_interval(engine, words[0], every, terminal_actor())
            out.print(f"{mapping.name} now syncs every {words[2]}.")
            return
        entries = schedule.list_schedule(engine, default_minutes=settings.sync_interval_minutes)
    if as_json:
        print_json([schedule_json(entry) for entry in entries])
        return
    table = Table(header_style="bold")
    for column in ("Job", "Every", "State", "Last run (UTC)", "Last result", "Next run (UTC)"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        state = "disabled" if not entry.enabled else "paused" if entry.paused else "active"
        table.add_row(
            entry.id,
            f"{entry.interval_minutes} min",
            state,
            f"{entry.last_run_at:%Y-%m-%d %H:%M}" if entry.last_run_at else "never",
            entry.last_result or "—",
            f"{entry.next_run_at:%Y-%m-%d %H:%M}" if entry.next_run_at else "—",
        )
    out.print(table)


@app.command("pause", rich_help_panel=PANEL)
@friendly
def pause_command(mapping: Annotated[str, typer.Argument(metavar="MAPPING")]) -> None:
    """Pause a mapping's scheduled sync (it can still be run by hand)."""
    from bot.operations import schedule

    with store() as (_settings, engine):
        _seeded(engine)
        row = schedule.pause(engine, mapping, terminal_actor())
    out.print(f"{row.name} is paused; `sync-errors resume {row.name}` starts it again.")


@app.command("resume", rich_help_panel=PANEL)
@friendly
def resume_command(mapping: Annotated[str, typer.Argument(metavar="MAPPING")]) -> None:
    """Resume a mapping's scheduled sync."""
    from bot.operations import schedule

    with store() as (_settings, engine):
        _seeded(engine)
        row = schedule.resume(engine, mapping, terminal_actor())
    out.print(f"{row.name} is scheduled again.")


@app.command("run", rich_help_panel=PANEL)
@friendly
def run_command(mapping: Annotated[str, typer.Argument(metavar="MAPPING")]) -> None:
    """Run one mapping's synchronization now, here (same as `sync MAPPING`)."""
    sync_command(mappings=[mapping], full=False)
