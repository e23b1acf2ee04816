"""Alembic environment: SQLModel's metadata, the URL from the caller's config, batch mode on SQLite."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import pool

import storage.models  # noqa: F401  (registers every table on the metadata)
from storage.db import make_engine
from storage.models import metadata

config = context.config
target_metadata = metadata
IGNORED_TABLES = {"apscheduler_jobs"}


def _include_object(*args: Any) -> bool:
    _obj, name, type_, _reflected, _compare_to = args
    return not (type_ == "table" and name in IGNORED_TABLES)


def run_migrations_offline() -> None:
    """Emit SQL for the migrations without a database connection."""
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=bool(url and url.startswith("sqlite")),
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply the migrations over a connection (the caller's, or a new one to the configured URL)."""
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url") or ""
        engine = make_engine(url, poolclass=pool.NullPool)
        with engine.connect() as new_connection:
            _run(new_connection)
        engine.dispose()
    else:
        _run(connection)


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
