"""`sync-errors demo`: the whole bot on the sandbox in one process, its Slack messages in the terminal."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.text import Text
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings, load_settings
from bot.demo.script import STEPS, Step
from bot.demo.terminal_slack import TerminalSlack
from bot.processes import seed_mappings, start_scheduler_thread
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from bot.services import Services
from storage.db import make_engine, session_scope
from storage.mappings import set_sync_only_coupled
from storage.models import ErrorStatus, SyncError, SyncJob, Trigger
from storage.outbox import outbox_counts
from storage.schema import upgrade

DEMO_DB = Path("sync_errors_demo.db")
DEMO_CHANNEL = "C0DEMOCHANNEL"
DRAIN_SECONDS = 8.0
TRY_COMMANDS = ("list", "show <ID>", "resync <ID>", "status", "doctor", "purge --older-than 1m")


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
    return f"sqlite:///{path}"


def demo_settings(server: SandboxServer, database_url: str) -> Settings:
    """Settings pointing at the sandbox; Slack's own settings are kept when they are all there."""
    real_slack = bool(os.environ.get("SLACK_BOT_TOKEN") and os.environ.get("SLACK_CHANNEL"))
    return load_settings(
        database_url=database_url,
        bc_api_url=server.bc_api_url,
        bc_web_url=server.bc_web_url,
        bc_company_id=server.company_id,
        dataverse_url=server.dataverse_url,
        auth_token_url=server.token_url,
        azure_client_id=SANDBOX_CLIENT_ID,
        azure_client_secret=SANDBOX_CLIENT_SECRET,
        digest_min_seconds=1,
        digest_step_seconds=0,
        digest_max_seconds=2,
        **({} if real_slack else {"slack_channel": DEMO_CHANNEL}),
    )


class Demo:
    """One run of the demo: sandbox, store, scheduler, the story, and the terminal."""

    def __init__(self, console: Console, *, records: int, db_file: Path = DEMO_DB) -> None:
        self.console = console
        self.records = records
        self.db_file = db_file
        self.stop = threading.Event()
        self.current: Step | None = None

    def print_message(self, headline: str, rendered: str) -> None:
        """Show one Slack message as it would read."""
        if self.console.is_terminal:
            self.console.print(Panel(Text(rendered), title=headline, title_align="left", border_style="cyan"))
        else:
            self.console.print(f"\n── {headline} ──\n{rendered}", markup=False, highlight=False)

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
        try:
            self._introduce(server, database_url)
            seed_mappings(services)
            self._first_sync(services)
            start_scheduler_thread(
                services, role="demo", stop=self.stop, sync_interval=timedelta(seconds=pace.sync)
            )
            self._play(server, db, pace, started, duration)
            self._drain(db)
        except KeyboardInterrupt:
            self.console.print("\nStopping…")
        finally:
            self.stop.set()
            time.sleep(0.2)
            self._summary(db, database_url)
            server.stop()
            services.close()
        return 0

    def _introduce(self, server: SandboxServer, database_url: str) -> None:
        self.console.rule("[bold]sync-errors demo")
        self.console.print(
            "The bot runs the Business Central ↔ Dynamics 365 Sales synchronization against the built-in\n"
            f"sandbox ({server.url}) and shows every Slack message it would post. Then the setup problems\n"
            "people really hit are switched on one by one. From a second terminal, try:",
            highlight=False,
        )
        for command in TRY_COMMANDS:
            self.console.print(f"    DATABASE_URL={database_url} sync-errors {command}", highlight=False)
        self.console.print("Ctrl-C stops the demo.\n")

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
            jobs = session.exec(select(func.count()).select_from(SyncJob)).one()
            open_errors = session.exec(
                select(func.count()).select_from(SyncError).where(SyncError.status == ErrorStatus.OPEN)
            ).one()
        faults = ", ".join(fault["fault"] for fault in server.active_faults()) or "none"
        line = f"⟳ {jobs} sync jobs · {open_errors} open errors · faults on: {faults}"
        return Group(Text(line, style="dim"))

    def _summary(self, db: Engine, database_url: str) -> None:
        with Session(db) as session:
            jobs = session.exec(select(func.count()).select_from(SyncJob)).one()
            rows = session.exec(
                select(SyncError.category, func.count())
                .where(SyncError.status == ErrorStatus.OPEN)
                .group_by(SyncError.category)
            ).all()
        self.console.rule("[bold]demo finished")
        by_category = ", ".join(f"{count} {category}" for category, count in rows) or "none"
        self.console.print(f"{jobs} synchronization jobs ran. Open errors by category: {by_category}.")
        self.console.print(
            f"The store stays in {self.db_file}: DATABASE_URL={database_url} sync-errors list",
            highlight=False,
        )


class _NoLive:
    """Stands in for rich's Live when the output is not a terminal."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


def run_demo(*, duration: float | None, records: int, console: Console) -> int:
    """Run the demo; return its exit code."""
    return Demo(console, records=records).run(duration)
