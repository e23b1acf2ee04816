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
)
from bot.commands import UsageError
from bot.jsonshapes import audit_json, error_json, skipped_json
from bot.operations import error_entries, reports
from storage.models import Category, Coupling, ErrorStatus, SyncError

PANEL = "Error log"


def _status_filter(status: str) -> ErrorStatus | None:
    if status == "all":
        return None
    try:
        return ErrorStatus(status)
    except ValueError:
        raise UsageError(
            f"unknown status {status!r}; use open, resolved, snoozed or all", usage("list")
        ) from None


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
        raise UsageError(f"there is no category {text!r}; known categories: {known}", usage("list")) from None


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
            raise UsageError("--skipped lists couplings; give it alone or with --mapping", usage("list"))
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
        out.print(f"No {status if status != 'all' else ''} errors.".replace("  ", " "))
        return
    table = new_table(caption="Times in UTC. `sync-errors show ID` prints one error in full.")
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
        out.print("No coupling is Skipped.")
        return
    out.print(
        f"{found.total:,} Skipped coupling{'' if found.total == 1 else 's'} (Coupled Data Synchronization "
        "Errors): left out of scheduled runs until re-synced.",
        highlight=False,
    )
    table = new_table()
    for column in ("Mapping", "Business Central", "Dataverse", "Failed", "Last error", "Fix"):
        table.add_column(column, overflow="fold")
    for coupling, error in found.items:
        fix = (
            f"resync {error.id} · uncouple {_reference(coupling)}"
            if error is not None
            else f"resync --failed --mapping {coupling.mapping} · uncouple {_reference(coupling)}"
        )
        failed = error.last_seen_at if error is not None else coupling.updated_at
        table.add_row(
            coupling.mapping,
            f"{coupling.bc_key or coupling.bc_id}" + (f" ({coupling.name})" if coupling.name else ""),
            f"{coupling.dataverse_table} {coupling.dataverse_id}",
            failed.strftime("%Y-%m-%d %H:%M"),
            f"#{error.id} {error.message}" if error is not None else "(entry deleted)",
            fix,
        )
    out.print(table)
    if found.total > len(found.items):
        out.print(f"Showing {len(found.items):,} of {found.total:,}; add --limit N for more.")


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
    for side in ("source", "destination"):
        url = getattr(error, f"{side}_url")
        out.print(
            f"{side.title():<12} {_record_label(error, side)}" + (f"  {url}" if url else ""),
            highlight=False,
            markup=False,
        )
    out.print(
        f"{label(Word.CLI_SEEN):<12} {error.occurrences}× · first {error.created_at:%Y-%m-%d %H:%M} UTC · "
        f"last {error.last_seen_at:%Y-%m-%d %H:%M} UTC"
    )
    if error.code:
        out.print(f"{label(Word.CLI_CODE):<12} {error.code}", highlight=False, markup=False)
    hint = terminal_hint(error, terminal_locale())
    if hint:
        out.print(Text.assemble(f"{label(Word.CLI_WHAT_TO_DO):<12} ", mrkdwn_to_rich(hint)), highlight=False)
    if error.status != ErrorStatus.RESOLVED:
        commands = " · ".join(f"sync-errors {words}" for words in fix_commands(error))
        out.print(f"{label(Word.CLI_COMMANDS):<12} {commands}", highlight=False, markup=False)
    if error.resolution:
        out.print(f"Resolved:    by {error.resolved_by}: {error.resolution}", highlight=False, markup=False)
    if error.detail and error.detail != error.message:
        out.print("\n[bold]Full text[/]")
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
        raise UsageError("give either --older-than DURATION or --all", usage("purge"))
    age: timedelta | None = None if purge_all else duration_option(older_than or "", usage=usage("purge"))
    with store() as (settings, engine):
        # One cutoff, fixed now: the number asked about is the number deleted (new errors stay).
        preview = error_entries.preview_purge(engine, older_than=age)
        count = preview.count
        scope = "" if age is None else f" not seen for {older_than}"
        if count == 0:
            out.print(f"Nothing to delete: there are no error entries{scope}.")
            return
        entries = f"{count:,} error {'entry' if count == 1 else 'entries'}"
        confirm(
            f"Delete {entries}{scope}? This cannot be undone.", yes=yes, what=f"deleting {entries}{scope}"
        )
        with _progress("Deleting", total=count) as advance:
            result = error_entries.purge(
                engine,
                preview=preview,
                actor=terminal_actor(),
                channel=settings.slack_channel,
                on_progress=advance,
            )
    out.print(f"Deleted {result.deleted:,} error {'entry' if result.deleted == 1 else 'entries'}.")
    if result.stayed:
        out.print(
            f"{result.stayed:,} of the {count:,} counted {'was' if result.stayed == 1 else 'were'} "
            "seen again since the count (or already deleted) and stayed."
        )


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
    out.print(f"Snoozed #{error_id} until {until:%Y-%m-%d %H:%M} UTC." if until else f"Snoozed #{error_id}.")


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
        out.print("No actions recorded" + (f" for #{error_id}." if error_id else "."))
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
