"""Migrations: an empty store upgrades to the models; outdated stores are detected."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import make_engine
from storage.models import metadata
from storage.schema import SchemaOutdated, require_current, schema_state, upgrade


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database: a new SQLite file, or a fresh PostgreSQL schema."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_an_empty_database_is_refused_with_the_command_to_run(empty_engine: Engine) -> None:
    with pytest.raises(SchemaOutdated, match="sync-errors db upgrade"):
        require_current(empty_engine)


def test_upgrade_creates_exactly_the_models_schema(empty_engine: Engine) -> None:
    state = upgrade(empty_engine)
    assert state.is_current
    require_current(empty_engine)
    with empty_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    assert upgrade(empty_engine).is_current


def test_an_outdated_database_is_detected(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000_old'"))
    assert not schema_state(empty_engine).is_current
    with pytest.raises(SchemaOutdated, match="needs .* Run `sync-errors db upgrade`"):
        require_current(empty_engine)
