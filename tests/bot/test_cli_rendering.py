"""The terminal's tables at 80 columns: no line longer than the terminal, no word split inside a cell."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.models import Category, JobType, Trigger
from tests.factories import make_error, make_job

WORDS = ("SALESPEOPLE", "ITEM-PRODUCT", "dependency-not-coupled", "admin-integration-user", "Northwind")


def _run(database_url: str, *words: str, columns: int = 80) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "COLUMNS": str(columns)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", *words], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def busy_store(engine: Engine) -> Engine:
    """Errors and jobs with the longest names the bot has."""
    with Session(engine) as session:
        make_error(session, mapping="SALESPEOPLE", category=Category.ADMIN_INTEGRATION_USER,
                   source_name="Northwind Traders International Holding", message="word " * 40)  # fmt: skip
        make_error(session, mapping="ITEM-PRODUCT", category=Category.DEPENDENCY_NOT_COUPLED)
        make_job(session, mapping="SALESPEOPLE", type=JobType.COUPLING, inserted=12345, failed=3,
                 trigger=Trigger.CLI, message="Northwind " * 12)  # fmt: skip
        make_job(session, mapping="ITEM-PRODUCT", modified=7)
        session.commit()
    return engine


@pytest.mark.usefixtures("busy_store")
@pytest.mark.parametrize(
    "words", [["list"], ["list", "--status", "all"], ["status"], ["schedule"], ["audit"], ["show", "1"]]
)
def test_tables_fit_80_columns_without_splitting_words(database_url: str, words: list[str]) -> None:
    output = _run(database_url, *words)
    lines = output.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(line for line in lines if len(line) > 80)
    for word in WORDS:
        fragments = [word[:cut] for cut in range(3, len(word))]
        for line in lines:
            stripped = line.rstrip()
            assert not any(stripped.endswith(f" {fragment}") for fragment in fragments), (word, line)


@pytest.mark.usefixtures("busy_store")
def test_list_and_status_keep_their_headers_and_whole_names(database_url: str) -> None:
    listing = _run(database_url, "list")
    assert "ID" in listing and "Mapping · category" in listing
    assert (
        "SALESPEOPLE" in listing
        and "admin-integration-user" in listing
        and "dependency-not-coupled" in listing
    )
    status = _run(database_url, "status")
    assert "Mapping" in status and "Started" in status and "Message" in status
    assert "12345 ins " in status and "3 fail" in status and "SALESPEOPLE" in status, status
    wide = _run(database_url, "status", columns=160)
    assert "Ins" in wide and "Uncpl" in wide and max(len(line) for line in wide.splitlines()) <= 160
