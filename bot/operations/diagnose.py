"""The doctor as an operation: check the integration setup with connections of its own."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.connectors.retry import NO_RETRIES
from bot.doctor import CheckResult, run_doctor
from bot.services import build_connectors


def diagnose(settings: Settings, db: Engine) -> list[CheckResult]:
    """Run every doctor check; the clients do not retry, so throttling is reported instead of waited out."""
    connectors = build_connectors(settings, retry=NO_RETRIES)
    try:
        with Session(db) as session:
            return run_doctor(
                settings=settings,
                bc=connectors.bc,
                dataverse=connectors.dataverse,
                tokens=connectors.tokens,
                session=session,
            )
    finally:
        connectors.close()
