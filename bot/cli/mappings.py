"""`sync-errors mappings [--json]` and `mappings MAPPING set SETTING VALUE`: the mappings' settings."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.blocks.wording import Word
from bot.cli.common import (
    app,
    friendly,
    known_mapping,
    label,
    new_table,
    out,
    print_json,
    store,
    terminal_actor,
)
from bot.cli.common import words as sentence
from bot.commands import UsageError

PANEL = "Schedule"
USAGE = "sync-errors mappings [--json] · mappings MAPPING set SETTING VALUE"


@app.command("mappings", rich_help_panel=PANEL)
@friendly
def mappings_command(
    words: Annotated[
        list[str] | None,
        typer.Argument(metavar="[MAPPING set SETTING VALUE]", show_default=False, help="Change one setting."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of mappings.")] = False,
) -> None:
    """The mappings' settings (direction, Synch. Only Coupled Records, conflict resolutions, interval)."""
    from bot.operations import mappings
    from bot.sync.mappings import seed_default_mappings
    from storage.db import session_scope

    with store() as (settings, engine):
        with session_scope(engine) as session:
            seed_default_mappings(session)
        if words:
            if len(words) != 4 or words[1].lower() != "set":
                raise UsageError(sentence("cli.write_mappings_set"), USAGE)
            name = known_mapping(words[0], usage=USAGE)
            if words[2].strip().lower().replace("-", "_") not in mappings.BY_NAME:
                choices = "; ".join(f"{s.name} ({s.accepts})" for s in mappings.SETTINGS)
                raise UsageError(sentence("cli.no_setting", setting=repr(words[2]), choices=choices), USAGE)
            changed = mappings.set_setting(engine, name, words[2], words[3], terminal_actor())
            value = dict(changed.rows)[words[2].strip().lower().replace("-", "_")]
            said = sentence("cli.setting_now", mapping=changed.name, setting=words[2].lower(), value=value)
            out.print(said, highlight=False)
            return
        listing = mappings.list_settings(engine, default_minutes=settings.sync_interval_minutes)
    if as_json:
        print_json(
            [
                {
                    "name": item.name,
                    "bc_table": item.bc_table,
                    "dataverse_table": item.dataverse_table,
                    "settings": [{"setting": setting, "value": value} for setting, value in item.rows],
                }
                for item in listing
            ]
        )
        return
    table = new_table(caption=sentence("cli.mappings_caption"))
    table.add_column(label(Word.CLI_MAPPING), no_wrap=True)
    table.add_column(label(Word.CLI_TABLES), overflow="fold")
    table.add_column(label(Word.CLI_SETTING), no_wrap=True)
    table.add_column(label(Word.CLI_VALUE), overflow="fold")
    for item in listing:
        for index, (setting, value) in enumerate(item.rows):
            first = index == 0
            table.add_row(
                item.name if first else "",
                f"{item.bc_table} ↔ {item.dataverse_table}" if first else "",
                setting,
                value,
                end_section=index == len(item.rows) - 1,
            )
    out.print(table)
