"""Terminal commands of the schedule: every scheduled job, a mapping's interval, pause, resume, run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from bot.blocks.wording import Word
from bot.cli.common import (
    EXIT_USAGE,
    app,
    duration_option,
    fail,
    friendly,
    label,
    new_table,
    out,
    print_json,
    store,
    terminal_actor,
    usage,
)
from bot.cli.common import (
    words as sentence,
)
from bot.cli.sync import sync_command
from bot.commands import UsageError
from bot.config import Settings
from bot.jobs.catalogue import FixedJob, fixed_job
from bot.jsonshapes import job_entry_json
from storage.types import utcnow

PANEL = "Schedule"
SYNC_PREFIX = "sync:"
REPORT_FRESH = timedelta(minutes=2)  # the scheduler reports every 30 s
JOB_ARGUMENT = "MAPPING or JOB (cleanup, find_deleted, summary, snoozed, outbox, work)"


def _seeded(engine: Engine) -> None:
    from bot.sync.mappings import seed_default_mappings
    from storage.db import session_scope

    with session_scope(engine) as session:
        seed_default_mappings(session)


def every_words(seconds: int | None, cron: str | None) -> str:
    """ "every 30 min", "every 5 s", "daily 02:30 UTC"."""
    if cron:
        return cron
    if not seconds:
        return "—"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return sentence("cli.every", interval=f"{seconds // size} {unit}")
    return sentence("cli.every", interval=f"{seconds} s")


@app.command("schedule", rich_help_panel=PANEL)
@friendly
def schedule_command(
    words: Annotated[
        list[str] | None,
        typer.Argument(metavar="[MAPPING every DURATION]", show_default=False, help="Change an interval."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of scheduled jobs.")] = False,
) -> None:
    """List every scheduled job, or change how often a mapping syncs: `schedule CUSTOMER every 15m`."""
    from bot.operations import schedule

    with store() as (settings, engine):
        _seeded(engine)
        if words:
            if len(words) != 3 or words[1].lower() != "every":
                raise UsageError(sentence("cli.write_schedule_every"), usage("schedule"))
            every = duration_option(words[2], usage=usage("schedule"))
            mapping = schedule.set_interval(engine, words[0], every, terminal_actor())
            out.print(sentence("cli.now_syncs_every", mapping=mapping.name, every=words[2]))
            return
        entries = schedule.list_jobs(engine, default_minutes=settings.sync_interval_minutes)
    if as_json:
        print_json([job_entry_json(entry) for entry in entries])
        return
    reporting = schedule.scheduler_is_reporting(entries, now=utcnow(), within=REPORT_FRESH)
    caption = sentence("cli.schedule_caption" if reporting else "cli.schedule_caption_unreported")
    table = new_table(caption=caption)
    table.add_column(label(Word.CLI_JOB), no_wrap=True)
    table.add_column(label(Word.CLI_WHEN), no_wrap=True)
    table.add_column(label(Word.CLI_STATE), no_wrap=True)
    table.add_column(label(Word.CLI_NEXT_RUN), no_wrap=True)
    table.add_column(label(Word.CLI_LAST_RUN), overflow="fold", ratio=1)
    for entry in entries:
        last = f"{entry.last_run_at:%m-%d %H:%M:%S}" if entry.last_run_at else sentence("cli.never")
        if entry.last_result:
            last += f" {entry.last_result}"
        table.add_row(
            entry.id,
            every_words(entry.every_seconds, entry.cron),
            entry.state,
            f"{entry.next_run_at:%m-%d %H:%M:%S}" if entry.next_run_at else "—",
            last,
        )
    out.print(table)


def _job_or_mapping(name: str, subcommand: str) -> tuple[FixedJob | None, str]:
    """A fixed job, or the mapping's name (also written as `sync:NAME`); anything else lists both."""
    from bot.jobs.catalogue import FIXED_JOBS
    from bot.sync.mappings import SPECS

    job = fixed_job(name)
    if job is not None:
        return job, job.id
    mapping = name.strip().removeprefix(SYNC_PREFIX).upper()
    if mapping not in SPECS:
        raise UsageError(
            f"there is no mapping or job {name!r}. Known mappings: {', '.join(SPECS)}; "
            f"known jobs: {', '.join(job.id for job in FIXED_JOBS)}",
            f"sync-errors {subcommand} MAPPING|JOB",
        )
    return None, mapping


@app.command("pause", rich_help_panel=PANEL)
@friendly
def pause_command(mapping: Annotated[str, typer.Argument(metavar="MAPPING|JOB", help=JOB_ARGUMENT)]) -> None:
    """Pause a scheduled job: a mapping's sync (it can still be run by hand) or a fixed job."""
    name, fixed = _set_paused(mapping, paused=True)
    if fixed:
        out.print(
            f"{name} is paused (the running scheduler applies it within 30 s); "
            f"`sync-errors resume {name}` starts it again.",
            highlight=False,
        )
        return
    out.print(sentence("cli.paused", name=name), highlight=False)


@app.command("resume", rich_help_panel=PANEL)
@friendly
def resume_command(mapping: Annotated[str, typer.Argument(metavar="MAPPING|JOB", help=JOB_ARGUMENT)]) -> None:
    """Resume a paused scheduled job (a mapping's sync or a fixed job)."""
    name, fixed = _set_paused(mapping, paused=False)
    if fixed:
        out.print(sentence("cli.resumed_fixed", name=name))
        return
    out.print(sentence("cli.resumed", name=name))


def _set_paused(argument: str, *, paused: bool) -> tuple[str, bool]:
    """Pause or resume a fixed job or a mapping's sync; return its name and whether it is a fixed job."""
    from bot.operations import schedule

    job, name = _job_or_mapping(argument, "pause" if paused else "resume")
    with store() as (_settings, engine):
        _seeded(engine)
        if job is not None:
            schedule.set_job_paused(engine, job.id, terminal_actor(), paused=paused)
            return job.id, True
        row = (schedule.pause if paused else schedule.resume)(engine, name, terminal_actor())
        return row.name, False


@app.command("run", rich_help_panel=PANEL)
@friendly
def run_command(mapping: Annotated[str, typer.Argument(metavar="MAPPING|JOB", help=JOB_ARGUMENT)]) -> None:
    """Run a scheduled job now, here: a mapping's sync (same as `sync MAPPING`) or a fixed job."""
    job, name = _job_or_mapping(mapping, "run")
    if job is None:
        sync_command(mappings=[name], full=False)
        return
    if job.id == "find_deleted":
        sync_command(mappings=None, full=False, find_deleted=True)
        return
    from bot.operations import schedule

    with store() as (settings, engine):
        started = utcnow()
        try:
            said = _FIXED_RUNNERS[job.id](settings, engine)
        except typer.Exit:
            raise
        except Exception as error:
            schedule.note_manual_run(
                engine, job, at=started, result=f"failed: {error}", actor=terminal_actor()
            )
            raise
        schedule.note_manual_run(engine, job, at=started, result="ok", actor=terminal_actor())
    out.print(f"[green]✔[/] {job.id}: {said}", highlight=False)


def _run_cleanup(settings: Settings, engine: Engine) -> str:
    from bot.jobs.cleanup import clean_up

    result = clean_up(engine, retention_days=settings.retention_days, channel=settings.slack_channel)
    return sentence(
        "cli.cleaned_up", errors=str(result.errors), jobs=str(result.jobs), days=str(settings.retention_days)
    )


def _run_summary(settings: Settings, engine: Engine) -> str:
    from bot.jobs.summary import post_daily_summary

    if not settings.slack_channel:
        fail(sentence("cli.summary_needs_channel"), code=EXIT_USAGE)
    post_daily_summary(engine, channel=settings.slack_channel)
    return sentence("cli.summary_queued")


def _run_snoozed(_settings: Settings, engine: Engine) -> str:
    from bot.jobs.snoozed import wake_snoozed_errors

    woken = wake_snoozed_errors(engine)
    return sentence("cli.snoozed_woke", n=woken, count=woken)


def _run_work(settings: Settings, engine: Engine) -> str:
    from bot.processes import worker_name
    from bot.services import build_services
    from bot.worker import run_due_work

    services = build_services(settings, db=engine)
    try:
        done = run_due_work(services, worker_id=worker_name("cli"))
    finally:
        services.close()
    return sentence("cli.work_ran", n=done, count=done)


def _run_outbox(settings: Settings, engine: Engine) -> str:
    from bot.processes import make_delivery
    from bot.services import build_services

    services = build_services(settings, db=engine)
    try:
        delivery = make_delivery(services, role="cli")
        if delivery is None:
            fail(sentence("cli.outbox_needs_token"), code=EXIT_USAGE)
        delivered = delivery.deliver_due()
    finally:
        services.close()
    return sentence("cli.notifications_delivered", n=delivered.sent, count=delivered.sent)


_FIXED_RUNNERS: dict[str, Callable[[Settings, Engine], str]] = {
    "cleanup": _run_cleanup,
    "summary": _run_summary,
    "snoozed": _run_snoozed,
    "work": _run_work,
    "outbox": _run_outbox,
}
