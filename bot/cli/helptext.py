"""`sync-errors help [COMMAND]`: the same words as `/sync-errors help`, from the same grammar."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from slack_sdk.models.blocks import Block

from bot.blocks import Message, build_help
from bot.blocks.terminal import render_rich
from bot.cli.common import EXIT_USAGE, app, friendly, out, terminal_locale
from bot.commands import Help, parse
from bot.ids import COMMAND

PROG = "sync-errors"


def terminal_help(topic: str | None = None) -> tuple[Message, bool]:
    """The help message with the terminal's program name, and whether the topic was understood."""
    command = parse(f"help {topic}" if topic else "help", prog=PROG)
    assert isinstance(command, Help)
    message = build_help(topic=command.topic, unknown_word=command.unknown_word, locale=terminal_locale())
    # The Slack help names `/sync-errors`; the terminal's words are the same after `sync-errors`.
    blocks = json.loads(json.dumps([block.to_dict() for block in message.blocks]).replace(COMMAND, PROG))
    terminal = Message(text=message.text.replace(COMMAND, PROG), blocks=Block.parse_all(blocks))
    return terminal, command.unknown_word is None


@app.command("help", rich_help_panel="Running the bot")
@friendly
def help_command(
    topic: Annotated[
        str | None, typer.Argument(metavar="[COMMAND]", show_default=False, help="One command, e.g. list.")
    ] = None,
) -> None:
    """The same help as `/sync-errors help`, for every command or one (COMMAND --help lists its options)."""
    message, understood = terminal_help(topic)
    out.print(render_rich(message))
    if not understood:
        raise typer.Exit(EXIT_USAGE)
