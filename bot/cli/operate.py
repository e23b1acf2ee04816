"""Terminal commands that run, check and maintain the bot: serve, clock, demo, sandbox, doctor, db."""

from __future__ import annotations

from typing import Annotated
from urllib.error import URLError

import typer
from rich.markup import escape

from bot.blocks.wording import Wording
from bot.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    app,
    db_app,
    fail,
    friendly,
    out,
    print_json,
    store,
    terminal_locale,
    words,
)
from bot.commands import UsageError
from bot.config import Settings, load_settings
from bot.logs import configure_logging
from bot.phrases import Phrase
from bot.services import build_services
from storage.db import make_engine
from storage.schema import schema_state, upgrade

PANEL = "Running the bot"


@app.command("doctor", rich_help_panel=PANEL)
@friendly
def doctor_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of checks.")] = False,
) -> None:
    """Check the integration setup (sign-in, integration user, currencies, mappings) and say what to fix."""
    from bot.doctor import format_checks_json
    from bot.operations.diagnose import diagnose

    with store() as (settings, engine):
        results = diagnose(settings, engine)
    if as_json:
        print_json(format_checks_json(results))
    else:
        w = Wording(terminal_locale())
        for result in results:
            mark = "[green]✔[/]" if result.ok else "[red]✘[/]"
            title = w.check_title(result.check)
            out.print(f"{mark} [bold]{escape(title)}[/]: {escape(_plain(result.found, w))}")
            if result.fix:
                label, _sep, fix = w.fix(escape(_plain(result.fixed_by, w))).partition(" ")
                out.print(f"    [yellow]{label}[/] {fix}", highlight=False)
    if not all(result.ok for result in results):
        raise typer.Exit(EXIT_FAILED)


@app.command("serve", rich_help_panel=PANEL)
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
            words("cli.socket_or_http"),
            "sync-errors serve [--socket | --http --port N] [--no-scheduler]",
        )
    settings = load_settings()
    _require_slack(settings, http=http)  # before the store is opened: a refused start leaves no file behind
    configure_logging(settings.log_level.value, settings.log_format.value)
    services = build_services(settings)
    try:
        if http:
            run_http(settings, services, port=port, scheduler=not no_scheduler)
        else:
            run_socket_mode(settings, services, scheduler=not no_scheduler)
    except KeyboardInterrupt:
        pass
    except (URLError, OSError) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        where = settings.slack_api_url or "slack.com"
        fail(words("cli.no_slack", where=where, reason=str(reason)))
    finally:
        services.close()


SLACK_NEEDS = {
    "slack_bot_token": "the bot's xoxb- token",
    "slack_app_token": "an xapp- token with connections:write, for Socket Mode; or serve --http",
    "slack_signing_secret": "the app's signing secret, to verify Slack's requests in HTTP mode",
}


def _require_slack(settings: Settings, *, http: bool) -> None:
    """Refuse (exit 2) when a Slack credential the chosen mode needs is missing, naming it."""
    needed = ["slack_bot_token", "slack_signing_secret" if http else "slack_app_token"]
    missing = [name for name in needed if not settings.secret(name)]
    if missing:
        what = "; ".join(f"{name.upper()} ({SLACK_NEEDS[name]})" for name in missing)
        fail(words("cli.set_slack", what=what), code=EXIT_USAGE)


@app.command("clock", rich_help_panel=PANEL)
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


@app.command("demo", rich_help_panel=PANEL)
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


@app.command("sandbox", rich_help_panel=PANEL)
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
    latency: Annotated[
        str,
        typer.Option(
            metavar="none|realistic|MS",
            help="Time per request and per $batch operation: none, realistic, or ms per operation.",
        ),
    ] = "none",
) -> None:
    """Serve the stand-in Business Central + Dataverse + token endpoint until stopped (Ctrl-C)."""
    from bot.demo.environment import export_lines, sandbox_variables
    from bot.sandbox import SandboxServer
    from bot.sandbox.faults import FAULT_NAMES
    from bot.sandbox.latency import BadLatency, LatencyModel

    usage = "sync-errors sandbox [--port N] [--records N] [--fault NAME ...] [--latency none|realistic|MS]"
    unknown = [name for name in fault or [] if name.split(":", 1)[0] not in FAULT_NAMES]
    if unknown:
        raise UsageError(f"unknown fault {', '.join(unknown)}; known: {', '.join(FAULT_NAMES)}", usage)
    try:
        LatencyModel.parse(latency)
    except BadLatency as error:
        raise UsageError(str(error), usage) from None
    configure_logging()
    try:
        server = SandboxServer(
            host=host, port=port, records=records, faults=tuple(fault or ()), latency=latency
        )
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror or error}")
    out.print(f"Sandbox listening on {server.url}. In another shell, paste:", highlight=False)
    for line in export_lines(sandbox_variables(server)):
        out.print(line, highlight=False, markup=False, soft_wrap=True)
    if fault:
        out.print(f"Faults on: {', '.join(fault)}", highlight=False)
    out.print("Ctrl-C stops the sandbox.", highlight=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        out.print("Sandbox stopped.")
    finally:
        server.stop()


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
        out.print(words("cli.db_up_to_date", migration=after.current))
    else:
        out.print(
            words("cli.db_upgraded", migration=after.current)
            if not before
            else words("cli.db_upgraded_from", before=before, migration=after.current)
        )


def _plain(said: Phrase | str, w: Wording) -> str:
    """A doctor finding or fix as plain text in the reader's words."""
    return w.say_plain(said) if isinstance(said, Phrase) else said
