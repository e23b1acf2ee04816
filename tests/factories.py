"""Builders of stored rows for tests."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage.models import Category, Direction, ErrorStatus, SyncError, SyncJob, System
from storage.types import utcnow

_counter = itertools.count(1)


def make_error(session: Session, **overrides: Any) -> SyncError:
    """Store one error with realistic defaults; keyword arguments override fields."""
    number = next(_counter)
    created: datetime = overrides.pop("created_at", utcnow())
    values: dict[str, Any] = {
        "mapping": "CUSTOMER",
        "direction": Direction.TO_DATAVERSE,
        "category": Category.PERMISSIONS,
        "code": "0x80040220",
        "message": "Principal user is missing prvCreateAccount privilege for entity 'account'.",
        "detail": "Principal user (Id=…, type=8) is missing prvCreateAccount privilege (Id=…) on OTC=1 "
        "for entity 'account'.",
        "hint": "An admin must add prvCreateAccount to a security role of the integration user.",
        "fingerprint": f"fp-{number}",
        "source_system": System.BUSINESS_CENTRAL,
        "source_table": "customers",
        "source_id": f"00000000-0000-0000-0000-{number:012d}",
        "source_key": str(10000 + number),
        "source_name": f"Adatum {number}",
        "source_url": f"https://businesscentral.dynamics.com/t/production/?page=21&filter=%27No.%27%20IS%20%27{number}%27",
        "destination_system": System.DATAVERSE,
        "destination_table": "accounts",
        "status": ErrorStatus.OPEN,
        "created_at": created,
        "last_seen_at": created,
    }
    values.update(overrides)
    error = SyncError(**values)
    session.add(error)
    session.flush()
    return error


def make_job(session: Session, **overrides: Any) -> SyncJob:
    """Store one finished job."""
    values: dict[str, Any] = {
        "mapping": "CUSTOMER",
        "direction": Direction.TO_DATAVERSE,
        "finished_at": utcnow(),
    }
    values.update(overrides)
    job = SyncJob(**values)
    session.add(job)
    session.flush()
    return job
