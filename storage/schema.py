"""Database schema state: apply the Alembic migrations and tell whether a store is current."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaOutdated(Exception):
    """The store is not at the newest migration; the message tells the user what to run."""


@dataclass(frozen=True)
class SchemaState:
    """Where a store stands against the migrations shipped with this version."""

    current: str | None
    head: str

    @property
    def is_current(self) -> bool:
        """True when the store is at the newest migration."""
        return self.current == self.head


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic config pointing at the shipped migrations (and at `url` when given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def schema_state(engine: Engine) -> SchemaState:
    """Read the store's migration revision and the newest one shipped."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations shipped")
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return SchemaState(current=current, head=head)


def upgrade(engine: Engine) -> SchemaState:
    """Apply every pending migration to the store and return its new state."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return schema_state(engine)


def require_current(engine: Engine) -> None:
    """Raise SchemaOutdated with a one-line instruction when the store is unmigrated or outdated."""
    state = schema_state(engine)
    if state.current is None:
        raise SchemaOutdated("The database has no tables yet. Run `sync-errors db upgrade` first.")
    if not state.is_current:
        raise SchemaOutdated(
            f"The database is at migration {state.current}, this version needs {state.head}. "
            "Run `sync-errors db upgrade`."
        )
