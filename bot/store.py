"""Opening the store for a command: engine, migration check, first-run upgrade of the default file."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.config import DEFAULT_DATABASE_URL, Settings
from storage.db import make_engine
from storage.schema import require_current, schema_state, upgrade


def open_store(settings: Settings) -> Engine:
    """Return an engine on a current store; the default SQLite file is created on first use.

    Raises storage.schema.SchemaOutdated (one line telling the user to run `sync-errors db upgrade`) when
    another store is unmigrated or outdated.
    """
    engine = make_engine(settings.database_url)
    if settings.database_url == DEFAULT_DATABASE_URL and schema_state(engine).current is None:
        upgrade(engine)
    require_current(engine)
    return engine
