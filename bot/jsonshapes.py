"""The `--json` shapes of CONTRACT.md, built from the stored rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from storage.models import AuditEntry, Coupling, SyncError, SyncJob

if TYPE_CHECKING:
    from bot.operations.schedule import JobEntry, ScheduleEntry


def iso(moment: datetime | None) -> str | None:
    """Format a timestamp as ISO 8601 UTC with a Z, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def error_json(error: SyncError) -> dict[str, Any]:
    """One error as CONTRACT.md's `show --json` object."""
    return {
        "id": error.id,
        "created_at": iso(error.created_at),
        "last_seen_at": iso(error.last_seen_at),
        "occurrences": error.occurrences,
        "status": str(error.status),
        "mapping": error.mapping,
        "direction": str(error.direction),
        "job_id": error.job_id,
        "category": str(error.category),
        "code": error.code,
        "message": error.message,
        "detail": error.detail,
        "hint": error.hint,
        "source": _side(error, "source"),
        "destination": _side(error, "destination"),
    }


def _side(error: SyncError, side: str) -> dict[str, Any]:
    return {
        "system": str(getattr(error, f"{side}_system")),
        "table": getattr(error, f"{side}_table"),
        "id": getattr(error, f"{side}_id"),
        "key": getattr(error, f"{side}_key"),
        "name": getattr(error, f"{side}_name"),
        "url": getattr(error, f"{side}_url"),
    }


def job_json(job: SyncJob) -> dict[str, Any]:
    """One job as an element of CONTRACT.md's `status --json` array."""
    return {
        "id": job.id,
        "mapping": job.mapping,
        "type": str(job.type),
        "direction": str(job.direction),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        **job.counters(),
        "message": job.message,
        "trigger": str(job.trigger),
    }


def schedule_json(entry: ScheduleEntry) -> dict[str, Any]:
    """One scheduled job for `schedule --json`."""
    return {
        "id": entry.id,
        "mapping": entry.mapping,
        "interval_minutes": entry.interval_minutes,
        "paused": entry.paused,
        "enabled": entry.enabled,
        "last_result": entry.last_result,
        "last_run_at": iso(entry.last_run_at),
        "next_run_at": iso(entry.next_run_at),
    }


def job_entry_json(entry: JobEntry) -> dict[str, Any]:
    """One scheduled job (a sync or a fixed job) for `schedule --json`; a superset of schedule_json."""
    seconds = entry.every_seconds
    return {
        "id": entry.id,
        "kind": entry.kind,
        "description": entry.description,
        "mapping": entry.mapping,
        "interval_seconds": seconds if entry.cron is None else None,
        "interval_minutes": seconds // 60 if seconds and entry.cron is None else None,
        "cron": entry.cron,
        "state": entry.state,
        "paused": entry.state == "paused",
        "enabled": entry.state != "disabled",
        "last_result": entry.last_result,
        "last_run_at": iso(entry.last_run_at),
        "next_run_at": iso(entry.next_run_at),
        "reported_at": iso(entry.reported_at),
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    """One audit entry for `audit --json`."""
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "actor": entry.actor,
        "door": str(entry.door),
        "action": entry.action,
        "target": entry.target,
        "result": entry.result,
        "detail": entry.detail,
    }


def skipped_json(coupling: Coupling, error: SyncError | None) -> dict[str, Any]:
    """One Skipped coupling (`list --skipped --json`): both records and its last error (null once purged)."""
    return {
        "coupling_id": coupling.id,
        "mapping": coupling.mapping,
        "skipped": coupling.skipped,
        "failures": coupling.failure_count,
        "failed_at": iso(error.last_seen_at if error is not None else coupling.updated_at),
        "business_central": {"table": coupling.bc_table, "id": coupling.bc_id, "key": coupling.bc_key,
                             "name": coupling.name},
        "dataverse": {"table": coupling.dataverse_table, "id": coupling.dataverse_id},
        "last_error": error_json(error) if error is not None else None,
    }  # fmt: skip
