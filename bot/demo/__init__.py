"""`sync-errors demo`: the whole bot on the sandbox in one process, its Slack messages in the terminal."""

from __future__ import annotations

import logging
import os
import shlex
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.text import Text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings, load_settings
from bot.demo.environment import ENV_FILE, command_path, export_lines, sandbox_variables, write_env_file
from bot.demo.script import STEPS, Step
from bot.demo.terminal_slack import TerminalSlack
from bot.processes import seed_mappings, start_scheduler_thread
from bot.sandbox import SandboxServer
from bot.services import Services
from storage.db import make_engine, session_scope
from storage.errors import open_counts
from storage.jobs import count_jobs
from storage.mappings import set_sync_only_coupled
from storage.models import Trigger
from storage.outbox import outbox_counts
from storage.schema import upgrade

DEMO_DB = Path("sync_errors_demo.db")
DEMO_CHANNEL = "C0DEMOCHANNEL"
DRAIN_SECONDS = 8.0
TRY_COMMANDS = ("list", "status", "schedule", "doctor", "audit")


SCHEDULER_STOP_SECONDS = 30.0


@dataclass(frozen=True)
class Pace:
    """How fast the story goes: seconds between steps, between syncs, and before the first step."""

    step: float
    sync: float
    lead: float

    @classmethod
    def for_duration(cls, duration: float | None) -> Pace:
        """Readable pace when open-ended; squeezed into the first 60% of a given duration otherwise."""
        if duration is None:
            return cls(step=12.0, sync=5.0, lead=6.0)
        step = max(1.0, min(12.0, duration * 0.6 / len(STEPS)))
        return cls(step=step, sync=max(1.0, min(5.0, step * 0.75)), lead=min(step, 2.0))


def _fresh_database(path: Path) -> str:
    for suffix in ("", "-wal", "-shm", ".clock.lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path.resolve()}"


def demo_settings(server: SandboxServer, database_url: str) -> Settings:
    """Settings pointing at the sandbox; Slack's own settings are kept when they are all there."""
    real_slack = bool(os.environ.get("SLACK_BOT_TOKEN") and os.environ.get("SLACK_CHANNEL"))
    sandbox = sandbox_variables(server, database_url=database_url)
    return load_settings(
        **{name.lower(): value for name, value in sandbox.items()},
        digest_min_seconds=1,
        digest_step_seconds=0,
        digest_max_seconds=2,
        **({} if real_slack else {"slack_channel": DEMO_CHANNEL}),
    )


class Demo:
    """One run of the demo: sandbox, store, scheduler, the story, and the terminal."""

    def __init__(
        self, console: Console, *, records: int, db_file: Path = DEMO_DB, env_file: Path = ENV_FILE
    ) -> None:
        self.console = console
        self.records = records
        self.db_file = db_file
        self.env_file = env_file
        self.env_path = env_file.resolve()
        self.stop = threading.Event()
        self.current: Step | None = None

    def print_message(self, headline: str, rendered: Text) -> None:
        """Show one Slack message as it would read (wrapped at the terminal's width, never cut)."""
        if self.console.is_terminal:
            self.console.print(Panel(rendered, title=headline, title_align="left", border_style="cyan"))
        else:
            self.console.print(f"\n── {headline} ──", markup=False, highlight=False)
            self.console.print(rendered, highlight=False)

    def run(self, duration: float | None) -> int:
        """Run until `duration` seconds have passed or Ctrl-C; return the exit code."""
        pace = Pace.for_duration(duration)
        database_url = _fresh_database(self.db_file)
        server = SandboxServer(port=0, records=self.records, seed=7).start()
        db = make_engine(database_url)
        upgrade(db)
        settings = demo_settings(server, database_url)
        client = TerminalSlack(
            self.print_message,
            forward=settings.slack_channel != DEMO_CHANNEL,
            token=settings.secret("slack_bot_token") or "xoxb-demo",
            base_url=(settings.slack_api_url + "/") if settings.slack_api_url else TerminalSlack.BASE_URL,
        )
        services = Services(settings=settings, db=db, slack=client)
        started = time.monotonic()
        clock: threading.Thread | None = None
        logs = _LogsAboveTheStatusLine(self.console)
        try:
            logs.install()
            self._introduce(server, database_url)
            seed_mappings(services)
            self._first_sync(services)
            clock = start_scheduler_thread(
                services, role="demo", stop=self.stop, sync_interval=timedelta(seconds=pace.sync)
            )
            self._play(server, db, pace, started, duration)
            self._drain(db)
        except KeyboardInterrupt:
            self.console.print("\nStopping…")
        finally:
            self.stop.set()
            # A sync still running must end before the sandbox goes, or it records a connection error.
            if clock is not None:
                clock.join(timeout=SCHEDULER_STOP_SECONDS)
            time.sleep(0.2)
            self._summary(db)
            server.stop()
            services.close()
            logs.remove()
        return 0

    def _introduce(self, server: SandboxServer, database_url: str) -> None:
        self.console.rule("[bold]sync-errors demo")
        self.console.print(
            "The bot runs the Business Central ↔ Dynamics 365 Sales synchronization against the built-in "
            f"sandbox ({server.url}) and shows every Slack message it would post. Then the setup problems "
            "people really hit are switched on one by one.",
            highlight=False,
        )
        self.env_path = write_env_file(self.env_file, sandbox_variables(server, database_url=database_url))
        self.console.print(
            f"\nTo use the demo from a second terminal, load its settings (also written to {self.env_path}):",
            highlight=False,
        )
        self.console.print(
            "\n".join(
                f"    {line}" for line in export_lines(sandbox_variables(server, database_url=database_url))
            ),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        self.console.print("or in one line:", highlight=False)
        self.console.print(f"    {self.load_line}", highlight=False, markup=False, soft_wrap=True)
        self.console.print("then try:", highlight=False)
        for command in self.try_commands:
            self.console.print(f"    {command}", highlight=False, markup=False, soft_wrap=True)
        self.console.print(
            "and `show ID`, `resync ID` with an id from the list. Ctrl-C stops the demo.\n", highlight=False
        )

    @property
    def load_line(self) -> str:
        """The shell line that loads the demo's settings into a second terminal."""
        return f"set -a; . {shlex.quote(str(self.env_path))}; set +a"

    @property
    def try_commands(self) -> list[str]:
        """The commands the demo suggests, exactly as a second terminal runs them."""
        return [f"{command_path()} {command}" for command in TRY_COMMANDS]

    def _first_sync(self, services: Services) -> None:
        jobs = services.sync_engine().run(None, full=True, trigger=Trigger.CLI)
        inserted = sum(job.inserted for job in jobs)
        coupled = sum(job.coupled for job in jobs)
        modified = sum(job.modified for job in jobs)
        self.console.print(
            f"✔ First full synchronization: {len(jobs)} jobs, {coupled} records coupled by matching, "
            f"{inserted} created, {modified} updated, {sum(job.failed for job in jobs)} failed.\n"
        )
        # Business Central syncs only coupled records by default; the demo lets new customers and contacts
        # flow, as an admin who cleared "Synch. Only Coupled Records" after the full synchronization would.
        with session_scope(services.db) as session:
            for name in ("CUSTOMER", "CONTACT"):
                set_sync_only_coupled(session, name=name, only_coupled=False)
        self.console.print(
            "✔ CUSTOMER and CONTACT: Synch. Only Coupled Records cleared, so new records get a partner.\n"
        )

    def _play(
        self, server: SandboxServer, db: Engine, pace: Pace, started: float, duration: float | None
    ) -> None:
        steps = iter(STEPS)
        next_step_at = time.monotonic() + pace.lead
        live = Live(self._status(db, server), console=self.console, transient=True, auto_refresh=False)
        with live if self.console.is_terminal else _NoLive():
            while duration is None or time.monotonic() - started < duration:
                if time.monotonic() >= next_step_at:
                    step = next(steps, None)
                    if step is not None:
                        self.current = step
                        self.console.print(f"\n[bold yellow]▶ {step.title}:[/] {step.story}", highlight=False)
                        step.act(server, db)
                        if not self.console.is_terminal:
                            self.console.print(self._status(db, server), highlight=False)
                    next_step_at += pace.step
                if self.console.is_terminal:
                    live.update(self._status(db, server), refresh=True)
                time.sleep(0.25)

    def _drain(self, db: Engine, *, limit: float = DRAIN_SECONDS) -> None:
        """Let the scheduler deliver what the last syncs found before stopping (bounded)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with Session(db) as session:
                if outbox_counts(session).waiting == 0:
                    return
            time.sleep(0.25)

    def _status(self, db: Engine, server: SandboxServer) -> Group:
        with Session(db) as session:
            jobs = count_jobs(session)
            open_errors = sum(count for _, _, count in open_counts(session))
        faults = ", ".join(fault["fault"] for fault in server.active_faults()) or "none"
        line = f"⟳ {jobs} sync jobs · {open_errors} open errors · faults on: {faults}"
        return Group(Text(line, style="dim"))

    def _summary(self, db: Engine) -> None:
        with Session(db) as session:
            jobs = count_jobs(session)
            by_category = Counter[str]()
            for _, category, count in open_counts(session):
                by_category[category] += count
        self.console.rule("[bold]demo finished")
        categories = ", ".join(f"{count} {name}" for name, count in by_category.most_common()) or "none"
        self.console.print(f"{jobs} synchronization jobs ran. Open errors by category: {categories}.")
        self.console.print(
            f"The store stays in {self.db_file.resolve()}; after `{self.load_line}`, "
            f"`{command_path()} list` still reads it.",
            highlight=False,
        )


class _LogsAboveTheStatusLine(logging.Handler):
    """Writes log records through the demo's console, so rich prints them above the live status line."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.WARNING)
        self.console = console
        self._saved: list[logging.Handler] = []

    def install(self) -> None:
        """Replace the root handlers (kept for `remove`)."""
        root = logging.getLogger()
        self._saved = root.handlers[:]
        if self._saved and self._saved[0].formatter is not None:
            self.setFormatter(self._saved[0].formatter)
        root.handlers[:] = [self]

    def remove(self) -> None:
        """Put the root handlers back."""
        logging.getLogger().handlers[:] = self._saved

    def emit(self, record: logging.LogRecord) -> None:
        """Print one record, dimmed, above the status line."""
        try:
            self.console.print(Text(self.format(record), style="dim"), soft_wrap=True)
        except Exception:  # noqa: BLE001 - logging must never stop the demo
            self.handleError(record)


class _NoLive:
    """Stands in for rich's Live when the output is not a terminal."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


def run_demo(*, duration: float | None, records: int, console: Console) -> int:
    """Run the demo; return its exit code."""
    return Demo(console, records=records).run(duration)
