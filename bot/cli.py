"""The `sync-errors` command line (Typer + rich): the same words as `/sync-errors` in Slack."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import wraps
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.commands import UsageError, parse_duration, usage_line
from bot.config import Settings, SettingsError, load_settings
from bot.jsonshapes import audit_json, error_json, job_json, schedule_json
from bot.logs import configure_logging
from bot.operations import errorlog
from bot.operations.base import Actor, InvalidInput, NotAllowed, OperationError
from bot.services import Services, build_services
from bot.store import open_store
from bot.sync.actions import ActionOutcome, SyncActions
from storage.db import make_engine
from storage.models import Door, ErrorStatus, JobType, SyncError, SyncJob, Trigger
from storage.schema import SchemaOutdated, schema_state, upgrade

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
app.add_typer(db_app, name="db")

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


def _status_filter(status: str) -> ErrorStatus | None:
    if status == "all":
        return None
    try:
        return ErrorStatus(status)
    except ValueError:
        raise UsageError(
            f"unknown status {status!r}; use open, resolved, snoozed or all", usage("list")
        ) from None


def _record_label(error: SyncError, side: str) -> str:
    table = getattr(error, f"{side}_table")
    key = getattr(error, f"{side}_key") or getattr(error, f"{side}_id") or "—"
    name = getattr(error, f"{side}_name")
    return f"{table} {key}" + (f" ({name})" if name else "")


# ---- error log ------------------------------------------------------------------------------------


@app.command("list")
@friendly
def list_command(
    mapping: Annotated[str | None, typer.Option(help="Only this mapping, e.g. CUSTOMER.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category, e.g. permissions.")] = None,
    status: Annotated[str, typer.Option(help="open, resolved, snoozed or all.")] = "open",
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many errors.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List synchronization errors, newest first."""
    wanted = _status_filter(status)
    with store() as (_settings, engine):
        errors = errorlog.find_errors(
            engine,
            status=wanted,
            mapping=mapping.upper() if mapping else None,
            category=category,
            limit=limit,
        )
    if as_json:
        print_json([error_json(error) for error in errors])
        return
    if not errors:
        out.print(f"No {status if status != 'all' else ''} errors.".replace("  ", " "))
        return
    table = Table(show_lines=False, header_style="bold")
    for column in ("ID", "Last seen", "Status", "Mapping", "Category", "Source", "Message"):
        table.add_column(column, overflow="fold")
    for error in errors:
        table.add_row(
            str(error.id),
            error.last_seen_at.strftime("%Y-%m-%d %H:%M"),
            str(error.status),
            error.mapping,
            str(error.category),
            _record_label(error, "source"),
            error.message,
        )
    out.print(table)


@app.command("show")
@friendly
def show_command(
    error_id: Annotated[int, typer.Argument(metavar="ID", help="The error's id (see `list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Show one error with its full text, details and both record links."""
    with store() as (_settings, engine):
        error = errorlog.load_error(engine, error_id=error_id)
    if as_json:
        print_json(error_json(error))
        return
    out.print(f"[bold]#{error.id} {error.category}[/] · {error.mapping} · {error.direction} · {error.status}")
    out.print(f"Message:     {error.message}", highlight=False)
    for side in ("source", "destination"):
        url = getattr(error, f"{side}_url")
        out.print(
            f"{side.title():<12} {_record_label(error, side)}" + (f"  {url}" if url else ""), highlight=False
        )
    out.print(
        f"Seen:        {error.occurrences}× · first {error.created_at:%Y-%m-%d %H:%M} UTC · "
        f"last {error.last_seen_at:%Y-%m-%d %H:%M} UTC"
    )
    if error.code:
        out.print(f"Code:        {error.code}", highlight=False)
    if error.hint:
        out.print(f"What to do:  {error.hint}", highlight=False)
    if error.resolution:
        out.print(f"Resolved:    by {error.resolved_by}: {error.resolution}", highlight=False)
    if error.detail and error.detail != error.message:
        out.print("\n[bold]Full text[/]")
        out.print(error.detail, highlight=False, markup=False)


@app.command("purge")
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
        count = errorlog.count_purgeable(engine, older_than=age)
        what = "every error entry" if age is None else f"error entries older than {older_than}"
        if count == 0:
            out.print(
                f"Nothing to delete: there are no {what.replace('every error entry', 'error entries')}."
            )
            return
        if not yes:
            prompt = f"This deletes {count:,} {what}. Continue?"
            if not sys.stdin.isatty() or not typer.confirm(prompt, default=False):
                fail(f"nothing deleted: {count:,} {what} would go; confirm at the prompt or add --yes.")
        with _progress("Deleting", total=count) as advance:
            result = errorlog.purge(
                engine,
                older_than=age,
                actor=terminal_actor(),
                channel=settings.slack_channel,
                on_progress=advance,
            )
    out.print(f"Deleted {result.deleted:,} error {'entry' if result.deleted == 1 else 'entries'}.")


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


@app.command("snooze")
@friendly
def snooze_command(
    error_id: Annotated[int, typer.Argument(metavar="ID", help="The error's id.")],
    duration: Annotated[str, typer.Argument(metavar="DURATION", help="e.g. 4h, 1d or 1w.")],
) -> None:
    """Hide an error's notifications until DURATION from now."""
    length = duration_option(duration, usage=usage("snooze"))
    with store() as (_settings, engine):
        error = errorlog.snooze(engine, error_id=error_id, duration=length, actor=terminal_actor())
    until = error.snoozed_until
    out.print(f"Snoozed #{error_id} until {until:%Y-%m-%d %H:%M} UTC." if until else f"Snoozed #{error_id}.")


@app.command("audit")
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
        entries = errorlog.audit_trail(engine, error_id=error_id, limit=limit)
    if as_json:
        print_json([audit_json(entry) for entry in entries])
        return
    if not entries:
        out.print("No actions recorded" + (f" for #{error_id}." if error_id else "."))
        return
    table = Table(header_style="bold")
    for column in ("When (UTC)", "Who", "Door", "Action", "Target", "Result", "Detail"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(
            f"{entry.at:%Y-%m-%d %H:%M:%S}",
            entry.actor,
            str(entry.door),
            entry.action,
            entry.target or "",
            entry.result,
            entry.detail,
        )
    out.print(table)


# ---- synchronization ------------------------------------------------------------------------------


@contextmanager
def sync_services() -> Iterator[tuple[Services, SyncActions]]:
    """Settings, store, connectors and the engine's actions for one command."""
    from bot.sync.actions import SyncActions

    settings = load_settings()
    configure_logging(settings.log_level.value, settings.log_format.value)
    services = build_services(settings, slack=None)
    try:
        yield services, SyncActions(services.sync_engine())
    finally:
        services.close()


def report(outcome: ActionOutcome) -> None:
    """Print an action's outcome; a refusal by the business app exits 1."""
    if outcome.ok:
        out.print(f"[green]✔[/] {outcome.message}", highlight=False)
        return
    fail(outcome.message)


def _act(action: str, target: str, call: Callable[[SyncActions], ActionOutcome]) -> None:
    from bot.operations.fixes import perform
    from bot.sync.refs import BadReference

    with sync_services() as (services, actions):
        try:
            outcome = perform(
                services.db, actor=terminal_actor(), action=action, target=target, call=lambda: call(actions)
            )
        except BadReference as error:
            raise InvalidInput(str(error)) from None
    report(outcome)


@app.command("sync")
@friendly
def sync_command(
    mappings: Annotated[
        list[str] | None,
        typer.Argument(metavar="[MAPPING ...]", help="e.g. CUSTOMER CONTACT; all when none."),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Couple what matches, then create the rest.")] = False,
) -> None:
    """Run synchronization now and print the job counters."""
    names = [name.upper() for name in mappings or []] or None
    with sync_services() as (services, actions):
        try:
            with _sync_progress() as progress:
                jobs = actions.engine.run(names, full=full, trigger=Trigger.CLI, progress=progress)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    if not jobs:
        out.print("No mapping to synchronize (all disabled or paused).")
        return
    out.print(jobs_table(jobs))
    failed = sum(job.failed for job in jobs)
    if failed or any(job.message and job.finished_at and job.failed for job in jobs):
        fail(f"{failed} record(s) failed; see `sync-errors list`.")


@contextmanager
def _sync_progress() -> Iterator[Callable[[str, int, int | None], None] | None]:
    """A rich progress bar per mapping on a terminal (hidden when stdout is not one)."""
    if not out.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(mapping: str, processed: int, total: int | None) -> None:
            if mapping not in tasks:
                tasks[mapping] = bar.add_task(mapping, total=total)
            bar.update(tasks[mapping], completed=processed, total=total)

        yield advance


_ARROWS = {"to_dataverse": "BC → DV", "from_dataverse": "DV → BC", "bidirectional": "BC ↔ DV"}
_COUNTERS = (("inserted", "Ins"), ("modified", "Mod"), ("deleted", "Del"), ("unchanged", "Same"),
             ("skipped", "Skip"), ("failed", "Fail"), ("coupled", "Cpl"), ("uncoupled", "Uncpl"))  # fmt: skip


def jobs_table(jobs: Sequence[SyncJob]) -> Table:
    """The job log as Business Central's Integration Synchronization Jobs page shows it, compactly."""
    table = Table(header_style="bold", pad_edge=False)
    table.add_column("Mapping", no_wrap=True)
    table.add_column("Dir", no_wrap=True)
    table.add_column("Started (UTC)", no_wrap=True)
    for _name, title in _COUNTERS:
        table.add_column(title, justify="right", no_wrap=True)
    table.add_column("By", no_wrap=True)
    table.add_column("Message", overflow="fold", ratio=1)
    for job in jobs:
        kind = "" if job.type == JobType.SYNC else f" ({job.type})"
        table.add_row(
            job.mapping + kind,
            _ARROWS.get(str(job.direction), str(job.direction)),
            f"{job.started_at:%m-%d %H:%M:%S}",
            *(str(getattr(job, name)) for name, _title in _COUNTERS),
            str(job.trigger),
            job.message,
        )
    return table


@app.command("status")
@friendly
def status_command(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many jobs.")] = 40,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of jobs.")] = False,
) -> None:
    """The synchronization jobs log: latest jobs per mapping with their counters."""
    from bot.operations.reports import recent_jobs

    with store() as (_settings, engine):
        jobs = recent_jobs(engine, limit=limit)
    if as_json:
        print_json([job_json(job) for job in jobs])
        return
    if not jobs:
        out.print("No synchronization jobs yet. Run `sync-errors sync`.")
        return
    out.print(jobs_table(jobs))


@app.command("resync")
@friendly
def resync_command(
    error_ids: Annotated[
        list[int] | None, typer.Argument(metavar="ID ...", help="Errors to re-sync.")
    ] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Re-sync every failed and skipped record.")
    ] = False,
    mapping: Annotated[str | None, typer.Option(help="With --failed: only this mapping.")] = None,
) -> None:
    """Re-synchronize the records behind errors."""
    if bool(error_ids) == failed or (mapping and not failed):
        raise UsageError("give error ids, or --failed [--mapping M]", usage("resync"))
    if failed:
        name = mapping.upper() if mapping else None
        _act("resync_failed", name or "all", lambda a: a.resync_failed(name, actor=terminal_actor().id))
        return
    problems = 0
    for error_id in error_ids or []:
        try:
            _act("resync", f"error:{error_id}", _resync_one(error_id))
        except typer.Exit:
            problems += 1
    if problems:
        raise typer.Exit(EXIT_FAILED)


def _resync_one(error_id: int) -> Callable[[SyncActions], ActionOutcome]:
    return lambda actions: actions.resync(error_id, actor=terminal_actor().id)


@app.command("couple")
@friendly
def couple_command(
    bc_ref: Annotated[str | None, typer.Argument(metavar="BC_REF", help="e.g. customer:10000")] = None,
    dataverse_ref: Annotated[str | None, typer.Argument(metavar="DV_REF", help="e.g. account:6f1c…")] = None,
    sync: Annotated[str, typer.Option(help="After coupling: none, bc (use its data) or dataverse.")] = "none",
    match: Annotated[
        str | None, typer.Option("--match", metavar="MAPPING", help="Couple by matching.")
    ] = None,
) -> None:
    """Couple a Business Central record to a Dataverse row, or couple a mapping's records by matching."""
    if match is not None:
        if bc_ref or dataverse_ref:
            raise UsageError("give either two references or --match MAPPING", usage("couple"))
        name = match.upper()
        _act("couple_match", name, lambda a: a.couple_match(name, actor=terminal_actor().id))
        return
    if not bc_ref or not dataverse_ref:
        raise UsageError("give a Business Central and a Dataverse reference", usage("couple"))
    if sync not in ("none", "bc", "dataverse"):
        raise UsageError(f"--sync must be none, bc or dataverse, not {sync!r}", usage("couple"))
    choice: Any = sync
    _act(
        "couple",
        f"{bc_ref}↔{dataverse_ref}",
        lambda a: a.couple(bc_ref, dataverse_ref, sync=choice, actor=terminal_actor().id),
    )


@app.command("uncouple")
@friendly
def uncouple_command(
    ref: Annotated[str, typer.Argument(metavar="REF", help="customer:10000, account:<guid> or a GUID")],
) -> None:
    """Remove a coupling (both records stay; they no longer synchronize)."""
    _act("uncouple", ref, lambda a: a.uncouple(ref, actor=terminal_actor().id))


@app.command("restore")
@friendly
def restore_command(error_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Recreate the deleted side of a coupled record and keep the coupling."""
    _act(
        "restore_record", f"error:{error_id}", lambda a: a.restore_record(error_id, actor=terminal_actor().id)
    )


@app.command("delete-record")
@friendly
def delete_record_command(
    error_id: Annotated[int, typer.Argument(metavar="ID")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the surviving side of a coupled record deleted on the other side, then the coupling."""
    # At a terminal it asks first; scripts and cron jobs (no terminal) run it as written.
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete the surviving record of #{error_id}?"):
        fail("nothing deleted.")
    _act("delete_record", f"error:{error_id}", lambda a: a.delete_record(error_id, actor=terminal_actor().id))


@app.command("keep")
@friendly
def keep_command(
    error_id: Annotated[int, typer.Argument(metavar="ID")],
    side: Annotated[
        str, typer.Argument(metavar="bc|dataverse", help="Whose values win the update conflict.")
    ],
) -> None:
    """Resolve an update conflict: keep Business Central's or Sales' values."""
    sides: dict[str, Any] = {"bc": "business_central", "business_central": "business_central",
                             "dataverse": "dataverse", "sales": "dataverse"}  # fmt: skip
    if side.lower() not in sides:
        raise UsageError(
            f"say whose values win: bc or dataverse, not {side!r}", "sync-errors keep ID bc|dataverse"
        )
    chosen = sides[side.lower()]
    action = "keep_bc" if chosen == "business_central" else "keep_dataverse"
    _act(action, f"error:{error_id}", lambda a: a.take_side(error_id, chosen, actor=terminal_actor().id))


@app.command("couple-dependency")
@friendly
def couple_dependency_command(error_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Couple the record an error's record depends on (e.g. its currency), then re-sync it."""
    _act(
        "couple_dependency",
        f"error:{error_id}",
        lambda a: a.couple_dependency(error_id, actor=terminal_actor().id),
    )


# ---- schedule ---------------------------------------------------------------------------------------------


def _seeded(engine: Engine) -> None:
    from bot.sync.mappings import seed_default_mappings
    from storage.db import session_scope

    with session_scope(engine) as session:
        seed_default_mappings(session)


@app.command("schedule")
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


@app.command("pause")
@friendly
def pause_command(mapping: Annotated[str, typer.Argument(metavar="MAPPING")]) -> None:
    """Pause a mapping's scheduled sync (it can still be run by hand)."""
    from bot.operations import schedule

    with store() as (_settings, engine):
        _seeded(engine)
        row = schedule.pause(engine, mapping, terminal_actor())
    out.print(f"{row.name} is paused; `sync-errors resume {row.name}` starts it again.")


@app.command("resume")
@friendly
def resume_command(mapping: Annotated[str, typer.Argument(metavar="MAPPING")]) -> None:
    """Resume a mapping's scheduled sync."""
    from bot.operations import schedule

    with store() as (_settings, engine):
        _seeded(engine)
        row = schedule.resume(engine, mapping, terminal_actor())
    out.print(f"{row.name} is scheduled again.")


@app.command("run")
@friendly
def run_command(mapping: Annotated[str, typer.Argument(metavar="MAPPING")]) -> None:
    """Run one mapping's synchronization now, here (same as `sync MAPPING`)."""
    sync_command(mappings=[mapping], full=False)


@app.command("doctor")
@friendly
def doctor_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of checks.")] = False,
) -> None:
    """Check the integration setup (sign-in, integration user, currencies, mappings) and say what to fix."""
    from bot.doctor import CHECK_TITLES, format_checks_json
    from bot.operations.diagnose import diagnose

    with store() as (settings, engine):
        results = diagnose(settings, engine)
    if as_json:
        print_json(format_checks_json(results))
    else:
        for result in results:
            mark = "[green]✔[/]" if result.ok else "[red]✘[/]"
            out.print(f"{mark} [bold]{CHECK_TITLES.get(result.check, result.check)}[/]: {result.detail}")
            if result.fix:
                out.print(f"    [yellow]Fix:[/] {result.fix}", highlight=False)
    if not all(result.ok for result in results):
        raise typer.Exit(EXIT_FAILED)


@app.command("serve")
@friendly
def serve_command(
    socket: Annotated[bool, typer.Option("--socket", help="Socket Mode (the default).")] = False,
    http: Annotated[
        bool, typer.Option("--http", help="Bolt over HTTP: /slack/events, /healthz, /metrics.")
    ] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="HTTP port.", envvar="PORT")] = 3000,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Do not run the scheduler here (a `clock` process does).")
    ] = False,
) -> None:
    """Run the Slack app (Socket Mode by default); also runs the scheduler and the work queue."""
    from bot.processes import run_http, run_socket_mode

    if socket and http:
        raise UsageError(
            "choose --socket or --http, not both",
            "sync-errors serve [--socket | --http --port N] [--no-scheduler]",
        )
    settings = load_settings()
    configure_logging(settings.log_level.value, settings.log_format.value)
    services = build_services(settings)
    if services.slack is None:
        fail(
            "SLACK_BOT_TOKEN is not set: the Slack app needs it (see README, Connecting Slack).",
            code=EXIT_USAGE,
        )
    try:
        if http:
            run_http(settings, services, port=port, scheduler=not no_scheduler)
        else:
            run_socket_mode(settings, services, scheduler=not no_scheduler)
    except KeyboardInterrupt:
        pass
    finally:
        services.close()


@app.command("clock")
@friendly
def clock_command() -> None:
    """Run only the scheduler and the work queue (web processes then run `serve --http --no-scheduler`)."""
    from bot.processes import run_clock_process

    settings = load_settings()
    configure_logging(settings.log_level.value, settings.log_format.value)
    services = build_services(settings)
    try:
        code = run_clock_process(services)
    finally:
        services.close()
    if code:
        raise typer.Exit(code)


@app.command("demo")
@friendly
def demo_command(
    duration: Annotated[
        float | None, typer.Option(min=5, help="Stop after this many seconds (default: run until Ctrl-C).")
    ] = None,
    records: Annotated[int, typer.Option(min=10, max=5000, help="Business Central customers to seed.")] = 150,
) -> None:
    """The whole bot on the built-in sandbox and SQLite, its Slack messages shown here; no accounts needed."""
    from bot.demo import run_demo

    configure_logging("WARNING")
    raise typer.Exit(run_demo(duration=duration, records=records, console=out))


@app.command("sandbox")
@friendly
def sandbox_command(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")] = 8700,
    records: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Business Central customers to seed.")
    ] = 300,
    fault: Annotated[
        list[str] | None, typer.Option("--fault", metavar="NAME", help="Switch a fault on (repeatable).")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the stand-in Business Central + Dataverse + token endpoint until stopped (Ctrl-C)."""
    from bot.sandbox import serve_forever
    from bot.sandbox.faults import FAULT_NAMES

    unknown = [name for name in fault or [] if name.split(":", 1)[0] not in FAULT_NAMES]
    if unknown:
        raise UsageError(
            f"unknown fault {', '.join(unknown)}; known: {', '.join(FAULT_NAMES)}",
            "sync-errors sandbox [--port N] [--records N] [--fault NAME ...]",
        )
    configure_logging()
    try:
        serve_forever(host, port, records, tuple(fault or ()))
    except KeyboardInterrupt:
        out.print("Sandbox stopped.")
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror or error}")


# ---- database ---------------------------------------------------------------------------------------


@db_app.command("upgrade")
@friendly
def db_upgrade_command() -> None:
    """Apply database migrations (creates the tables on a new database)."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        before = schema_state(engine).current
        after = upgrade(engine)
    finally:
        engine.dispose()
    if before == after.current:
        out.print(f"The database is up to date (migration {after.current}).")
    else:
        out.print(f"Upgraded the database from {before or 'empty'} to migration {after.current}.")


def main() -> None:
    """Console-script entry point."""
    app()
