"""Shared fixtures: a clean environment, a migrated store on SQLite or TEST_DATABASE_URL, sessions."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import storage.models  # noqa: F401  (registers every table)
from storage.db import make_engine
from storage.schema import upgrade

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

_CLEARED_PREFIXES = ("SLACK_", "BC_", "DATAVERSE_", "AZURE_", "AUTH_", "SYNC_", "RETENTION_", "LOG_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Remove the bot's variables and proxies so nothing from the developer's shell leaks in."""
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(_CLEARED_PREFIXES) or upper.endswith("_PROXY") or upper == "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env or sync_errors.db from the working copy


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undo a command's configure_logging: its handler writes to this test's captured stderr (closed
    afterwards) and its formatter rewrites the records that other handlers see."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict)}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


def _reset_postgres(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[Engine | None]:
    """A migrated schema of its own on TEST_DATABASE_URL, so parallel test runs never meet."""
    if not TEST_DATABASE_URL:
        yield None
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    engine = make_engine(f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}")
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def database_url(tmp_path: Path, _postgres_engine: Engine | None, _sqlite_template: Path) -> str:
    """URL of an empty, migrated store for this test (a SQLite file, or the shared PostgreSQL emptied)."""
    if _postgres_engine is not None:
        _reset_postgres(_postgres_engine)
        return _postgres_engine.url.render_as_string(hide_password=False)
    path = tmp_path / "test.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test store."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test store; the test commits what it wants others to see."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
