"""Unsaved rows for the pure builders (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.phrases import ADVICE_FACT
from bot.sync.hints import hint_phrase
from storage.models import AuditEntry, Category, Direction, Door, ErrorStatus, SyncError, SyncJob, System

T0 = datetime(2026, 11, 20, 8, 15, 2, tzinfo=UTC)


def error(**overrides: Any) -> SyncError:
    """A permissions error on customer 10000 Adatum, with a link on the Business Central side only."""
    values: dict[str, Any] = {
        "id": 17,
        "mapping": "CUSTOMER",
        "direction": Direction.TO_DATAVERSE,
        "category": Category.PERMISSIONS,
        "code": "0x80040220",
        "message": "Principal user is missing prvCreateAccount privilege for entity 'account'.",
        "detail": "Principal user (Id=…, type=8) is missing prvCreateAccount privilege on OTC=1.",
        "hint": "An admin must add prvCreateAccount to a security role of the integration user.",
        "facts": {"privilege": "prvCreateAccount"},
        "fingerprint": "fp-17",
        "job_id": "6f1c2b3a-0000-0000-0000-000000000001",
        "source_system": System.BUSINESS_CENTRAL,
        "source_table": "customers",
        "source_id": "00000000-0000-0000-0000-000000000017",
        "source_key": "10000",
        "source_name": "Adatum Corporation",
        "source_url": "https://businesscentral.dynamics.com/?page=21&filter=%27No.%27%20IS%20%2710000%27",
        "destination_system": System.DATAVERSE,
        "destination_table": "accounts",
        "status": ErrorStatus.OPEN,
        "created_at": T0,
        "last_seen_at": T0,
        "occurrences": 1,
    }
    values.update(overrides)
    facts = dict(values["facts"] or {})
    if ADVICE_FACT not in facts:  # as the classifier keeps it: the hint as data, worded for each reader
        facts[ADVICE_FACT] = hint_phrase(Category(values["category"]), facts).to_data()
    values["facts"] = facts
    return SyncError(**values)


def job(**overrides: Any) -> SyncJob:
    """A finished CUSTOMER sync job."""
    values: dict[str, Any] = {
        "mapping": "CUSTOMER",
        "direction": Direction.TO_DATAVERSE,
        "started_at": T0,
        "finished_at": T0,
        "inserted": 3,
        "failed": 1,
    }
    values.update(overrides)
    return SyncJob(**values)


def audit(**overrides: Any) -> AuditEntry:
    """A re-sync done from Slack."""
    values: dict[str, Any] = {
        "at": T0,
        "actor": "U0123ABC",
        "door": Door.SLACK,
        "action": "resync",
        "target": "error:17",
        "result": "ok",
    }
    values.update(overrides)
    return AuditEntry(**values)
