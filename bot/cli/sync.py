"""Terminal commands that run the synchronization and its fixes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.blocks.wording import Word, Wording
from bot.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    app,
    confirm,
    fail,
    friendly,
    is_wide,
    known_error,
    known_mapping,
    label,
    new_table,
    out,
    print_json,
    store,
    terminal_actor,
    terminal_locale,
    usage,
    valid_ref,
)
from bot.cli.common import (
    words as sentence,
)
from bot.commands import UsageError
from bot.config import load_settings
from bot.ids import ActionKey
from bot.jsonshapes import job_json
from bot.logs import configure_logging
from bot.operations.base import InvalidInput
from bot.services import Services, build_services
from bot.sync.actions import ActionOutcome, SyncActions, refusal_before_asking
from bot.sync.deleted import MESSAGE_PREFIX
from bot.sync.lease import MappingBusy
from storage.db import session_scope
from storage.errors import count_job_errors
from storage.models import JobType, SyncJob, Trigger

# ---- synchronization ------------------------------------------------------------------------------

PANEL = "Synchronization"
FIND_DELETED_USAGE = "sync-errors sync [MAPPING ...] [--full | --find-deleted]"


@contextmanager
def sync_services() -> Iterator[tuple[Services, SyncActions]]:
    """Settings, store, connectors and the engine's actions for one command."""
    from bot.sync.actions import SyncActions

    settings = load_settings()
    configure_logging(settings.log_level.value, settings.log_format.value)
    services = build_services(settings, slack=None)
    try:
        yield services, SyncActions(services.sync_engine(), trigger=Trigger.CLI)
    finally:
        services.close()


def report(outcome: ActionOutcome) -> None:
    """Print an outcome in the reader's language; exit 1 if the app refused, 2 if it does not apply."""
    words = Wording(terminal_locale()).say_plain(outcome.said)
    if outcome.ok:
        out.print(f"[green]✔[/] {escape(words)}", highlight=False)
        return
    fail(words, code=EXIT_USAGE if outcome.refused else EXIT_FAILED)


def _act(action: ActionKey, target: str, call: Callable[[SyncActions], ActionOutcome]) -> None:
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


def _act_on_error_confirmed(
    error_id: int,
    action: ActionKey,
    call: Callable[[SyncActions], ActionOutcome],
    *,
    question: Callable[[str], str],
    what: str,
    yes: bool,
) -> None:
    """Ask `question` about error #ID (given its label), then run the action on the error's record.

    A fix that cannot apply (the error is resolved; keep on anything but an update conflict) is refused before
    the question, so nobody is asked to confirm what would then be refused.
    """
    label = known_error(error_id)
    with store() as (_settings, engine):
        refusal = refusal_before_asking(
            engine, error_id, conflict_only=action in (ActionKey.KEEP_BC, ActionKey.KEEP_DATAVERSE)
        )
    if refusal is not None:
        report(refusal)
    confirm(question(label), yes=yes, what=what)
    _act(action, f"error:{error_id}", call)


@app.command("sync", rich_help_panel=PANEL)
@friendly
def sync_command(
    mappings: Annotated[
        list[str] | None,
        typer.Argument(metavar="[MAPPING ...]", help="e.g. CUSTOMER CONTACT; all when none."),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Couple what matches, then create the rest.")] = False,
    find_deleted: Annotated[
        bool,
        typer.Option(
            "--find-deleted",
            help="Instead of syncing, find coupled records deleted on one side (or both) and settle them.",
        ),
    ] = False,
) -> None:
    """Run synchronization now and print the job counters."""
    if full and find_deleted:
        raise UsageError(sentence("cli.full_or_find_deleted"), FIND_DELETED_USAGE)
    names = [known_mapping(name, usage=usage("sync")) for name in mappings or []] or None
    busy: list[MappingBusy] = []
    with sync_services() as (services, actions):
        try:
            if find_deleted:
                jobs = actions.engine.find_deleted(names, trigger=Trigger.CLI)
            else:
                with _sync_progress() as progress:
                    report = actions.engine.run_report(
                        names, full=full, trigger=Trigger.CLI, progress=progress
                    )
                jobs, busy = report.jobs, report.busy
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        for taken in busy:
            out.print(str(taken), highlight=False)
        if not jobs:
            if busy:
                raise typer.Exit(EXIT_FAILED)
            out.print(sentence("cli.nothing_to_sync"))
            return
        out.print(jobs_table(jobs))
        if find_deleted:
            _found_deleted(jobs)
            return
        failed = sum(job.failed for job in jobs)
        with session_scope(actions.db) as session:
            listed = count_job_errors(session, job_ids=[job.id for job in jobs])
    if failed and listed:
        fail(sentence("cli.records_failed", n=failed, count=failed))
    if failed or busy:
        stopped = next((job.message for job in jobs if job.failed and job.message), "")
        fail(
            sentence("cli.records_failed_because", n=failed, count=failed, reason=stopped)
            if failed and stopped
            else sentence("cli.not_every_mapping_ran")
        )


def _found_deleted(jobs: Sequence[SyncJob]) -> None:
    """Exit 1 when the scan stopped (sign-in, admin user, throttling) or left deletions for people."""
    stopped = [job for job in jobs if not job.message.startswith(MESSAGE_PREFIX)]
    if stopped:
        fail(sentence("cli.find_deleted_stopped", mapping=stopped[0].mapping, reason=stopped[0].message))
    waiting = sum(job.failed for job in jobs)
    if waiting:
        fail(
            f"{waiting} coupled record(s) deleted on one side need a decision (restore, delete-record or "
            "uncouple); see `sync-errors list --category deleted-record`."
        )


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
    wide = is_wide()
    table = new_table(caption=label(Word.CLI_TIMES_UTC) if wide else sentence("cli.jobs_caption"))
    table.add_column(label(Word.CLI_MAPPING), no_wrap=True)
    table.add_column(label(Word.CLI_DIRECTION), no_wrap=True)
    table.add_column(label(Word.CLI_STARTED), no_wrap=True)
    if wide:
        for _name, title in _COUNTERS:
            table.add_column(title, justify="right", no_wrap=True)
    else:
        table.add_column(label(Word.CLI_COUNTERS), overflow="fold", ratio=1)
    table.add_column(label(Word.CLI_BY), no_wrap=True)
    table.add_column(label(Word.CLI_MESSAGE_COLUMN), overflow="fold", ratio=2)
    for job in jobs:
        kind = "" if job.type == JobType.SYNC else f"\n({job.type})"
        if wide:
            counters = [str(getattr(job, name)) for name, _title in _COUNTERS]
        else:
            shown = [
                f"{getattr(job, name)} {title.lower()}" for name, title in _COUNTERS if getattr(job, name)
            ]
            counters = ["\n".join(shown) or "—"]
        table.add_row(
            job.mapping + kind,
            _ARROWS.get(str(job.direction), str(job.direction)),
            f"{job.started_at:%m-%d %H:%M:%S}",
            *counters,
            str(job.trigger),
            job.message,
        )
    return table


@app.command("status", rich_help_panel=PANEL)
@friendly
def status_command(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many jobs.")] = 40,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of jobs.")] = False,
) -> None:
    """The synchronization jobs log: latest jobs per mapping with their counters."""
    from bot.operations.mappings import list_settings
    from bot.operations.reports import recent_jobs

    with store() as (_settings, engine):
        jobs = recent_jobs(engine, limit=limit)
    if as_json:
        print_json([job_json(job) for job in jobs])
        return
    if not jobs:
        out.print(sentence("cli.no_jobs"))
        return
    out.print(jobs_table(jobs))
    only = [m.name for m in list_settings(engine) if ("sync_only_coupled", "true") in m.rows]
    if only:
        out.print(sentence("cli.only_coupled_note", mappings=", ".join(only)), highlight=False)


@app.command("resync", rich_help_panel=PANEL)
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
        raise UsageError(sentence("cli.resync_needs_ids"), usage("resync"))
    if failed:
        name = known_mapping(mapping, usage=usage("resync")) if mapping else None
        _act(
            ActionKey.RESYNC_FAILED, name or "all", lambda a: a.resync_failed(name, actor=terminal_actor().id)
        )
        return
    for error_id in error_ids or []:
        known_error(error_id)
    codes = []
    for error_id in error_ids or []:
        try:
            _act(ActionKey.RESYNC, f"error:{error_id}", _resync_one(error_id))
        except typer.Exit as stop:
            codes.append(stop.exit_code)
    if codes:
        raise typer.Exit(EXIT_FAILED if EXIT_FAILED in codes else max(codes))


def _resync_one(error_id: int) -> Callable[[SyncActions], ActionOutcome]:
    return lambda actions: actions.resync(error_id, actor=terminal_actor().id)


@app.command("couple", rich_help_panel=PANEL)
@friendly
def couple_command(
    bc_ref: Annotated[str | None, typer.Argument(metavar="BC_REF", help="e.g. customer:10000")] = None,
    dataverse_ref: Annotated[str | None, typer.Argument(metavar="DV_REF", help="e.g. account:6f1c…")] = None,
    sync: Annotated[str, typer.Option(help="After coupling: none, bc (use its data) or dataverse.")] = "none",
    match: Annotated[
        str | None, typer.Option("--match", metavar="MAPPING", help="Couple by matching.")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --sync: do not ask for confirmation.")
    ] = False,
    create: Annotated[
        bool,
        typer.Option(
            "--create", help="Create the partner of one uncoupled record on the other side (Create New)."
        ),
    ] = False,
) -> None:
    """Couple a Business Central record to a Dataverse row, or couple a mapping's records by matching."""
    if create:
        if match is not None or dataverse_ref or not bc_ref or sync != "none":
            raise UsageError(sentence("cli.create_takes_one"), usage("couple"))
        ref = bc_ref
        valid_ref(ref)
        _act(ActionKey.COUPLE_CREATE, ref, lambda a: a.couple_create(ref, actor=terminal_actor().id))
        return
    if match is not None:
        if bc_ref or dataverse_ref:
            raise UsageError(sentence("cli.two_refs_or_match"), usage("couple"))
        name = known_mapping(match, usage=usage("couple"))
        _act(ActionKey.COUPLE_MATCH, name, lambda a: a.couple_match(name, actor=terminal_actor().id))
        return
    if not bc_ref or not dataverse_ref:
        raise UsageError(sentence("cli.bc_and_dv_ref"), usage("couple"))
    if sync not in ("none", "bc", "dataverse"):
        raise UsageError(sentence("cli.sync_choice", value=repr(sync)), usage("couple"))
    choice: Any = sync
    if sync != "none":
        valid_ref(bc_ref), valid_ref(dataverse_ref)
        winner, loser = (
            ("Business Central", "Dataverse") if sync == "bc" else ("Dataverse", "Business Central")
        )
        confirm(
            sentence(
                "cli.ask_couple_overwrite",
                bc_ref=bc_ref,
                dataverse_ref=dataverse_ref,
                loser=loser,
                winner=winner,
            ),
            yes=yes,
            what=sentence("cli.what_overwrite", loser=loser),
        )
    _act(
        ActionKey.COUPLE,
        f"{bc_ref}↔{dataverse_ref}",
        lambda a: a.couple(bc_ref, dataverse_ref, sync=choice, actor=terminal_actor().id),
    )


@app.command("uncouple", rich_help_panel=PANEL)
@friendly
def uncouple_command(
    ref: Annotated[str, typer.Argument(metavar="REF", help="customer:10000, account:GUID or a GUID")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a coupling (both records stay; they no longer synchronize)."""
    valid_ref(ref)
    confirm(sentence("cli.ask_uncouple", ref=ref), yes=yes, what=sentence("cli.what_uncouple", ref=ref))
    _act(ActionKey.UNCOUPLE, ref, lambda a: a.uncouple(ref, actor=terminal_actor().id))


@app.command("restore", rich_help_panel=PANEL)
@friendly
def restore_command(
    error_id: Annotated[int, typer.Argument(metavar="ID")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Recreate the deleted side of a coupled record and keep the coupling."""
    _act_on_error_confirmed(
        error_id,
        ActionKey.RESTORE_RECORD,
        lambda a: a.restore_record(error_id, actor=terminal_actor().id),
        question=lambda label: sentence("cli.ask_restore", error_id=str(error_id), label=label),
        what=sentence("cli.what_restore", error_id=str(error_id)),
        yes=yes,
    )


@app.command("delete-record", rich_help_panel=PANEL)
@friendly
def delete_record_command(
    error_id: Annotated[int, typer.Argument(metavar="ID")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the surviving side of a coupled record deleted on the other side, then the coupling."""
    _act_on_error_confirmed(
        error_id,
        ActionKey.DELETE_RECORD,
        lambda a: a.delete_record(error_id, actor=terminal_actor().id),
        question=lambda label: sentence("cli.ask_delete_record", error_id=str(error_id), label=label),
        what=sentence("cli.what_delete_record", error_id=str(error_id)),
        yes=yes,
    )


@app.command("keep", rich_help_panel=PANEL)
@friendly
def keep_command(
    error_id: Annotated[int, typer.Argument(metavar="ID")],
    side: Annotated[
        str, typer.Argument(metavar="bc|dataverse", help="Whose values win the update conflict.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Resolve an update conflict: keep Business Central's or Sales' values."""
    sides: dict[str, Any] = {"bc": "business_central", "business_central": "business_central",
                             "dataverse": "dataverse", "sales": "dataverse"}  # fmt: skip
    if side.lower() not in sides:
        raise UsageError(sentence("cli.keep_side", value=repr(side)), "sync-errors keep ID bc|dataverse")
    chosen = sides[side.lower()]
    action = ActionKey.KEEP_BC if chosen == "business_central" else ActionKey.KEEP_DATAVERSE
    winner, loser = (
        ("Business Central", "Sales") if chosen == "business_central" else ("Sales", "Business Central")
    )
    _act_on_error_confirmed(
        error_id,
        action,
        lambda a: a.take_side(error_id, chosen, actor=terminal_actor().id),
        question=lambda label: sentence(
            "cli.ask_keep", loser=loser, error_id=str(error_id), label=label, winner=winner
        ),
        what=sentence("cli.what_overwrite", loser=loser),
        yes=yes,
    )


@app.command("couple-dependency", rich_help_panel=PANEL)
@friendly
def couple_dependency_command(error_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Couple the record an error's record depends on (e.g. its currency), then re-sync it."""
    known_error(error_id)
    _act(
        ActionKey.COUPLE_DEPENDENCY,
        f"error:{error_id}",
        lambda a: a.couple_dependency(error_id, actor=terminal_actor().id),
    )
