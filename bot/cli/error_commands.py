"""Terminal commands of the error log: list, show, purge, snooze, audit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from bot.blocks.notifications import message_text, terminal_hint
from bot.blocks.terminal import mrkdwn_to_rich
from bot.blocks.wording import Word, Wording
from bot.cli.common import (
    app,
    confirm,
    count,
    duration_option,
    friendly,
    known_mapping,
    label,
    new_table,
    out,
    print_json,
    store,
    terminal_actor,
    terminal_locale,
    usage,
    words,
)
from bot.commands import UsageError
from bot.jsonshapes import audit_json, error_json, skipped_json
from bot.operations import error_entries, reports
from bot.phrases import Value, render, resolution_phrase
from storage.models import Category, Coupling, ErrorStatus, SyncError

PANEL = "Error log"


def _status_filter(status: str) -> ErrorStatus | None:
    if status == "all":
        return None
    try:
        return ErrorStatus(status)
    except ValueError:
        raise UsageError(words("cli.unknown_status", status=repr(status)), usage("list")) from None


DIRECTION_WORDS = {
    "to_dataverse": "Business Central → Dataverse",
    "from_dataverse": "Dataverse → Business Central",
    "bidirectional": "Business Central ↔ Dataverse",
}


def fix_commands(error: SyncError) -> list[str]:
    """The terminal's words for the fixes Slack offers as buttons under this error."""
    number = error.id
    by_category = {
        Category.DELETED_RECORD: [f"restore {number}", f"delete-record {number}"],
        Category.UPDATE_CONFLICT: [f"keep {number} bc", f"keep {number} dataverse"],
        Category.DEPENDENCY_NOT_COUPLED: [f"couple-dependency {number}"],
    }
    return [*by_category.get(Category(error.category), [f"resync {number}"]), f"snooze {number} 1d"]


def _category(text: str) -> str:
    try:
        return Category(text.strip().lower()).value
    except ValueError:
        known = ", ".join(category.value for category in Category)
        problem = words("cli.unknown_category", category=repr(text), known=known)
        raise UsageError(problem, usage("list")) from None


def _record_label(error: SyncError, side: str) -> str:
    table = getattr(error, f"{side}_table")
    key = getattr(error, f"{side}_key") or getattr(error, f"{side}_id") or "—"
    name = getattr(error, f"{side}_name")
    return f"{table} {key}" + (f" ({name})" if name else "")


# ---- error log ------------------------------------------------------------------------------------


@app.command("list", rich_help_panel=PANEL)
@friendly
def list_command(
    mapping: Annotated[
        str | None, typer.Option(metavar="M", help="Only this mapping, e.g. CUSTOMER.")
    ] = None,
    category: Annotated[
        str | None, typer.Option(metavar="C", help="Only this category, e.g. permissions.")
    ] = None,
    status: Annotated[str, typer.Option(metavar="STATUS", help="open, resolved, snoozed or all.")] = "open",
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, max=10_000, help="At most this many errors.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    skipped: Annotated[
        bool, typer.Option("--skipped", help="The Skipped couplings (Coupled Data Synchronization Errors).")
    ] = False,
) -> None:
    """List synchronization errors, newest first; or, with --skipped, the Skipped couplings."""
    if skipped:
        if category or status != "open":
            raise UsageError(words("cli.skipped_alone"), usage("list"))
        _list_skipped(mapping.upper() if mapping else None, limit=limit, as_json=as_json)
        return
    wanted = _status_filter(status)
    name = known_mapping(mapping, usage=usage("list")) if mapping else None
    with store() as (_settings, engine):
        errors = error_entries.find_errors(
            engine,
            status=wanted,
            mapping=name,
            category=_category(category) if category else None,
            limit=limit,
        )
    if as_json:
        print_json([error_json(error) for error in errors])
        return
    if not errors:
        out.print(words(f"cli.no_{status}_errors" if status != "all" else "cli.no_errors"))
        return
    table = new_table(caption=words("cli.list_caption"))
    table.add_column(label(Word.CLI_ID), no_wrap=True, justify="right")
    table.add_column(label(Word.CLI_LAST_SEEN), no_wrap=True)
    table.add_column(label(Word.CLI_MAPPING_CATEGORY), no_wrap=True)
    table.add_column(label(Word.CLI_RECORD_MESSAGE), overflow="fold", ratio=1)
    for error in errors:
        state = "" if status != "all" else f"\n{error.status}"
        table.add_row(
            str(error.id),
            error.last_seen_at.strftime("%m-%d %H:%M") + state,
            f"{error.mapping}\n{error.category}",
            Text.assemble((_record_label(error, "source"), "bold"), "\n", error.message),
        )
    out.print(table)


def _list_skipped(mapping: str | None, *, limit: int, as_json: bool) -> None:
    """The Skipped couplings, each with its last error and the commands that fix it."""
    with store() as (_settings, engine):
        found = reports.skipped(engine, mapping=mapping, limit=limit)
    if as_json:
        print_json([skipped_json(coupling, error) for coupling, error in found.items])
        return
    if not found.total:
        out.print(words("cli.no_skipped"))
        return
    out.print(
        words("cli.skipped_count", n=found.total, count=count(found.total)),
        highlight=False,
    )
    table = new_table()
    mapping_column, failed_column, last_error, fix_column = (
        label(word) for word in (Word.CLI_MAPPING, Word.CLI_FAILED, Word.CLI_LAST_ERROR, Word.CLI_FIX)
    )
    for column in (mapping_column, "Business Central", "Dataverse", failed_column, last_error, fix_column):
        table.add_column(column, overflow="fold")
    for coupling, error in found.items:
        if error is None:
            fix = f"resync --failed --mapping {coupling.mapping} · uncouple {_reference(coupling)}"
        elif error.category == Category.DELETED_RECORD:  # a re-sync cannot bring the deleted record back
            fix = f"restore {error.id} · delete-record {error.id} · uncouple {_reference(coupling)}"
        else:
            fix = f"resync {error.id} · uncouple {_reference(coupling)}"
        failed = error.last_seen_at if error is not None else coupling.updated_at
        table.add_row(
            coupling.mapping,
            f"{coupling.bc_key or coupling.bc_id}" + (f" ({coupling.name})" if coupling.name else ""),
            f"{coupling.dataverse_table} {coupling.dataverse_id}",
            failed.strftime("%Y-%m-%d %H:%M"),
            f"#{error.id} {error.message}" if error is not None else words("cli.entry_deleted"),
            fix,
        )
    out.print(table)
    if found.total > len(found.items):
        out.print(words("cli.showing", shown=count(len(found.items)), total=count(found.total)))


def _reference(coupling: Coupling) -> str:
    table = {"customers": "customer", "contacts": "contact", "currencies": "currency", "items": "item",
             "salespeople": "salesperson"}.get(coupling.bc_table, coupling.bc_table)  # fmt: skip
    return f"{table}:{coupling.bc_key or coupling.bc_id}"


@app.command("show", rich_help_panel=PANEL)
@friendly
def show_command(
    error_id: Annotated[int, typer.Argument(metavar="ID", help="The error's id (see `list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Show one error with its full text, details and both record links."""
    with store() as (_settings, engine):
        error = error_entries.load_error(engine, error_id=error_id)
    if as_json:
        print_json(error_json(error))
        return
    direction = DIRECTION_WORDS.get(str(error.direction), str(error.direction))
    out.print(
        f"[bold]#{error.id} {error.category}[/] · {escape(error.mapping)} · {direction} · {error.status}"
    )
    message = message_text(error, Wording(terminal_locale()))
    out.print(f"{label(Word.CLI_MESSAGE):<12} {message}", highlight=False, markup=False)
    for side, word in (("source", Word.CLI_SOURCE), ("destination", Word.CLI_DESTINATION)):
        url = getattr(error, f"{side}_url")
        out.print(
            f"{label(word):<12} {_record_label(error, side)}" + (f"  {url}" if url else ""),
            highlight=False,
            markup=False,
        )
    seen = words(
        "cli.seen",
        count=error.occurrences,
        first=f"{error.created_at:%Y-%m-%d %H:%M}",
        last=f"{error.last_seen_at:%Y-%m-%d %H:%M}",
    )
    out.print(f"{label(Word.CLI_SEEN):<12} {seen}")
    if error.code:
        out.print(f"{label(Word.CLI_CODE):<12} {error.code}", highlight=False, markup=False)
    hint = terminal_hint(error, terminal_locale())
    if hint:
        out.print(Text.assemble(f"{label(Word.CLI_WHAT_TO_DO):<12} ", mrkdwn_to_rich(hint)), highlight=False)
    if error.status != ErrorStatus.RESOLVED:
        commands = " · ".join(f"sync-errors {command}" for command in fix_commands(error))
        out.print(f"{label(Word.CLI_COMMANDS):<12} {commands}", highlight=False, markup=False)
    if error.resolution:
        phrase = resolution_phrase(error.resolution)
        how = (
            error.resolution
            if phrase is None or terminal_locale() == "en"
            else render(phrase, terminal_locale())
        )
        resolved = words("cli.resolved_by", who=str(error.resolved_by), how=how)
        out.print(f"{label(Word.CLI_RESOLVED):<12} {resolved}", highlight=False, markup=False)
    if error.detail and error.detail != error.message:
        out.print(f"\n[bold]{escape(label(Word.CLI_FULL_TEXT))}[/]")
        out.print(error.detail, highlight=False, markup=False)


@app.command("purge", rich_help_panel=PANEL)
@friendly
def purge_command(
    older_than: Annotated[
        str | None, typer.Option("--older-than", metavar="DURATION", help="e.g. 7d, 12h or 30m.")
    ] = None,
    purge_all: Annotated[bool, typer.Option("--all", help="Delete every entry.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete error entries older than DURATION, or all of them."""
    if purge_all == (older_than is not None):
        raise UsageError(words("cli.purge_either"), usage("purge"))
    age: timedelta | None = None if purge_all else duration_option(older_than or "", usage=usage("purge"))
    with store() as (settings, engine):
        # One cutoff, fixed now: the number asked about is the number deleted (new errors stay).
        preview = error_entries.preview_purge(engine, older_than=age)
        total = preview.count
        older = "" if age is None else "_older"
        if total == 0:
            out.print(words(f"cli.nothing_to_delete{older}", age=older_than))
            return
        amount: dict[str, Value | None] = {"n": total, "count": count(total), "age": older_than}
        question = words(f"cli.purge_question{older}", **amount)
        confirm(question, yes=yes, what=words(f"cli.purging{older}", **amount))
        with _progress(words("cli.deleting"), total=total) as advance:
            result = error_entries.purge(
                engine,
                preview=preview,
                actor=terminal_actor(),
                channel=settings.slack_channel,
                on_progress=advance,
            )
    out.print(words("cli.deleted", n=result.deleted, count=count(result.deleted)))
    if result.stayed:
        out.print(words("cli.stayed", n=result.stayed, count=count(result.stayed), total=count(total)))


@contextmanager
def _progress(label: str, *, total: int) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on a terminal; silent when stdout is not one."""
    if not out.is_terminal:
        yield lambda _done, _total: None
        return
    with Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done, _total: progress.update(task, completed=done)


@app.command("snooze", rich_help_panel=PANEL)
@friendly
def snooze_command(
    error_id: Annotated[int, typer.Argument(metavar="ID", help="The error's id.")],
    duration: Annotated[str, typer.Argument(metavar="DURATION", help="e.g. 4h, 1d or 1w.")],
) -> None:
    """Hide an error's notifications until DURATION from now."""
    length = duration_option(duration, usage=usage("snooze"))
    with store() as (_settings, engine):
        error = error_entries.snooze(engine, error_id=error_id, duration=length, actor=terminal_actor())
    until = error.snoozed_until
    out.print(
        words("cli.snoozed_until", id=error_id, until=f"{until:%Y-%m-%d %H:%M}")
        if until
        else words("cli.snoozed", id=error_id)
    )


@app.command("audit", rich_help_panel=PANEL)
@friendly
def audit_command(
    error_id: Annotated[
        int | None, typer.Argument(metavar="[ID]", help="Only actions on this error.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many entries.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Who did what, when, through which door, with which result."""
    with store() as (_settings, engine):
        entries = error_entries.audit_trail(engine, error_id=error_id, limit=limit)
    if as_json:
        print_json([audit_json(entry) for entry in entries])
        return
    if not entries:
        out.print(words("cli.no_actions_for", id=error_id) if error_id else words("cli.no_actions"))
        return
    table = new_table(caption=label(Word.CLI_TIMES_UTC))
    table.add_column(label(Word.CLI_WHEN), no_wrap=True)
    table.add_column(label(Word.CLI_WHO_DOOR), no_wrap=True)
    table.add_column(label(Word.CLI_ACTION), no_wrap=True)
    table.add_column(label(Word.CLI_TARGET_RESULT), overflow="fold", ratio=1)
    for entry in entries:
        detail = f" — {entry.detail}" if entry.detail else ""
        table.add_row(
            f"{entry.at:%m-%d %H:%M:%S}",
            f"{entry.actor}\n{entry.door}",
            entry.action,
            f"{entry.target or '—'} · {entry.result}{detail}",
        )
    out.print(table)
