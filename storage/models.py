"""SQLModel tables of the bot: mappings, couplings, jobs, errors, the Slack outbox, the work queue, audit.

All timestamps are timezone-aware UTC (`UTCDateTime`). Enumerations are stored as their string values.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, MetaData, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, enum_type, utcnow

# Deterministic constraint names, so Alembic's batch mode on SQLite can find them again.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class System(StrEnum):
    """One of the two business apps."""

    BUSINESS_CENTRAL = "business_central"
    DATAVERSE = "dataverse"


class Direction(StrEnum):
    """Direction of a mapping or of one synchronization run (Business Central's Synch. Direction)."""

    TO_DATAVERSE = "to_dataverse"
    FROM_DATAVERSE = "from_dataverse"
    BIDIRECTIONAL = "bidirectional"


class DeletionConflictResolution(StrEnum):
    """What to do when a coupled record was deleted on one side ("Resolve Deletion Conflicts")."""

    NONE = "none"
    RESTORE = "restore"
    REMOVE_COUPLING = "remove_coupling"


class UpdateConflictResolution(StrEnum):
    """Which side wins when both changed since the last sync ("Resolve Update Conflicts")."""

    NONE = "none"
    BUSINESS_CENTRAL_WINS = "business_central"
    DATAVERSE_WINS = "dataverse"


class SyncResult(StrEnum):
    """Result of the last synchronization of a coupling in one direction."""

    NONE = ""
    SUCCESS = "success"
    FAILURE = "failure"


class JobType(StrEnum):
    """Kind of entry in the synchronization job log."""

    SYNC = "sync"
    COUPLING = "coupling"
    UNCOUPLING = "uncoupling"
    CLEANUP = "cleanup"


class Trigger(StrEnum):
    """What started a job."""

    SCHEDULE = "schedule"
    USER = "user"
    CLI = "cli"


class Door(StrEnum):
    """Through which door an action came in (audit log)."""

    SLACK = "slack"
    TERMINAL = "terminal"
    SCHEDULE = "schedule"


class ErrorStatus(StrEnum):
    """Lifecycle of an error entry."""

    OPEN = "open"
    RESOLVED = "resolved"
    SNOOZED = "snoozed"


# Errors that still matter: shown, counted, and kept by the cleanups.
LIVE_ERROR_STATUSES = (ErrorStatus.OPEN, ErrorStatus.SNOOZED)


class Category(StrEnum):
    """Error categories of CONTRACT.md."""

    PERMISSIONS = "permissions"
    ADMIN_INTEGRATION_USER = "admin-integration-user"
    CREDENTIALS = "credentials"
    EXCHANGE_RATE = "exchange-rate"
    DELETED_RECORD = "deleted-record"
    DEPENDENCY_NOT_COUPLED = "dependency-not-coupled"
    UPDATE_CONFLICT = "update-conflict"
    THROTTLED = "throttled"
    CONNECTION = "connection"
    VALIDATION = "validation"
    ADMIN_MODE = "admin-mode"
    SEVERAL_MATCHES = "several-matches"
    OTHER = "other"


class NotificationKind(StrEnum):
    """What an outbox row asks the delivery loop to do in Slack."""

    NEW_ERROR = "new_error"  # post the error's parent message
    REPEAT = "repeat"  # reply in the error's thread and edit the parent's count
    UPDATE = "update"  # re-render the parent after a state change (resolved, snoozed, ...)
    DIGEST = "digest"  # one message for a burst, the list in its thread
    TEXT = "text"  # a plain line (cleanup count, health alert, recovery, daily summary)


class NotificationStatus(StrEnum):
    """Delivery state of an outbox row."""

    PENDING = "pending"
    HELD = "held"  # folded into a digest that is not due yet
    SENDING = (
        "sending"  # claimed by a delivery loop; a stale claim is checked against Slack before re-posting
    )
    SENT = "sent"
    DROPPED = "dropped"  # nothing to deliver any more (error purged, superseded)
    FAILED = "failed"  # Slack refused it permanently (e.g. channel_not_found)


class WorkStatus(StrEnum):
    """State of a queued piece of work."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def _uuid() -> str:
    return str(uuid.uuid4())


# ---- configuration and sync state -------------------------------------------------------------


class Mapping(SQLModel, table=True):
    """An Integration Table Mapping: which tables sync, in which direction, how often, and its watermarks."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=20, unique=True, index=True)
    bc_table: str = Field(max_length=60)  # Business Central API entity set, e.g. "customers"
    dataverse_table: str = Field(max_length=60)  # Dataverse entity set, e.g. "accounts"
    direction: Direction = Field(sa_type=enum_type(Direction))
    interval_minutes: int | None = None  # None: SYNC_INTERVAL_MINUTES
    enabled: bool = True
    paused: bool = False
    sync_only_coupled: bool = True
    deletion_conflict: DeletionConflictResolution = Field(
        default=DeletionConflictResolution.NONE, sa_type=enum_type(DeletionConflictResolution)
    )
    update_conflict: UpdateConflictResolution = Field(
        default=UpdateConflictResolution.NONE, sa_type=enum_type(UpdateConflictResolution)
    )
    dependencies: str = Field(default="", max_length=200)  # comma-separated mapping names
    position: int = 0  # dependency order, lower runs first
    bc_watermark: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dataverse_watermark: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consecutive_failures: int = 0
    health_alerted: bool = False  # a "failing 3 runs in a row" alert is out and no recovery yet
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def dependency_names(self) -> list[str]:
        """Return the names of the mappings that must sync before this one."""
        return [n.strip() for n in self.dependencies.split(",") if n.strip()]


class Coupling(SQLModel, table=True):
    """A CRM Integration Record: one Business Central record coupled to one Dataverse row."""

    __table_args__ = (
        UniqueConstraint("bc_table", "bc_id", name="uq_coupling_bc"),
        UniqueConstraint("dataverse_table", "dataverse_id", name="uq_coupling_dataverse"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mapping: str = Field(max_length=20, index=True)
    bc_table: str = Field(max_length=60)
    bc_id: str = Field(max_length=64)  # SystemId GUID
    dataverse_table: str = Field(max_length=60)
    dataverse_id: str = Field(max_length=64)
    bc_key: str | None = Field(default=None, max_length=100)  # human key, e.g. customer number
    name: str | None = Field(default=None, max_length=250)
    last_synced_bc_modified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_synced_dataverse_modified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    bc_etag: str | None = Field(default=None, max_length=100)  # the BC record's ETag after the last sync
    dataverse_etag: str | None = Field(default=None, max_length=100)  # the Dataverse row's ETag then
    last_result_to_dataverse: SyncResult = Field(default=SyncResult.NONE, sa_type=enum_type(SyncResult))
    last_result_from_dataverse: SyncResult = Field(default=SyncResult.NONE, sa_type=enum_type(SyncResult))
    last_job_to_dataverse: str | None = Field(default=None, max_length=36)
    last_job_from_dataverse: str | None = Field(default=None, max_length=36)
    skipped: bool = Field(default=False, index=True)
    failure_fingerprint: str | None = Field(default=None, max_length=64)
    failure_count: int = 0
    # A create was sent with this identity and its answer is not in yet: the next run finds the record by
    # that id instead of creating it again (Dataverse accepts the primary key on create).
    pending: bool = Field(default=False, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UncoupledRecord(SQLModel, table=True):
    """A record whose coupling a person removed: never synced or given a new partner until coupled again."""

    __table_args__ = (UniqueConstraint("system", "table_name", "record_id", name="uq_uncoupled_record"),)

    id: int | None = Field(default=None, primary_key=True)
    mapping: str = Field(max_length=20, index=True)
    system: System = Field(sa_type=enum_type(System))
    table_name: str = Field(max_length=60)  # the API's entity set, e.g. "customers", "accounts"
    record_id: str = Field(max_length=64)
    by: str = Field(default="", max_length=100)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SyncLease(SQLModel, table=True):
    """Who is running a mapping's synchronization now: one run per mapping across every process."""

    mapping: str = Field(primary_key=True, max_length=20)
    holder: str = Field(max_length=36)
    trigger: Trigger = Field(default=Trigger.SCHEDULE, sa_type=enum_type(Trigger))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SyncJob(SQLModel, table=True):
    """An Integration Synch. Job: one run of one mapping, with Business Central's counters."""

    __table_args__ = (Index("ix_syncjob_mapping_started", "mapping", "started_at"),)

    id: str = Field(default_factory=_uuid, primary_key=True, max_length=36)
    mapping: str = Field(max_length=20)
    type: JobType = Field(default=JobType.SYNC, sa_type=enum_type(JobType))
    direction: Direction = Field(sa_type=enum_type(Direction))
    trigger: Trigger = Field(default=Trigger.SCHEDULE, sa_type=enum_type(Trigger))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    inserted: int = 0
    modified: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    coupled: int = 0
    uncoupled: int = 0
    message: str = Field(default="", max_length=250)

    def counters(self) -> dict[str, int]:
        """Business Central's counters of the job by name, in the order its page shows them."""
        return {
            "inserted": self.inserted,
            "modified": self.modified,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "failed": self.failed,
            "coupled": self.coupled,
            "uncoupled": self.uncoupled,
        }


class SyncError(SQLModel, table=True):
    """An Integration Synch. Job Error: one failed record (or job), with both records and what to do."""

    __table_args__ = (
        Index("ix_syncerror_created_id", "created_at", "id"),
        Index("ix_syncerror_status_created", "status", "created_at"),
        Index("ix_syncerror_mapping_category", "mapping", "category"),
        Index("ix_syncerror_fingerprint_status", "fingerprint", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    occurrences: int = 1
    status: ErrorStatus = Field(default=ErrorStatus.OPEN, sa_type=enum_type(ErrorStatus))
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=100)  # Slack user id or terminal user
    resolution: str | None = Field(default=None, max_length=250)  # what resolved it, in words
    mapping: str = Field(max_length=20)
    direction: Direction = Field(sa_type=enum_type(Direction))
    job_id: str | None = Field(default=None, max_length=36, index=True)
    category: Category = Field(default=Category.OTHER, sa_type=enum_type(Category))
    code: str | None = Field(default=None, max_length=100)
    message: str = Field(default="", max_length=250)
    detail: str = Field(default="", sa_type=Text)
    hint: str = Field(default="", sa_type=Text)
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    fingerprint: str = Field(max_length=64)
    source_system: System = Field(sa_type=enum_type(System))
    source_table: str = Field(max_length=60)
    source_id: str | None = Field(default=None, max_length=64)
    source_key: str | None = Field(default=None, max_length=100)
    source_name: str | None = Field(default=None, max_length=250)
    source_url: str | None = Field(default=None, max_length=2000)
    destination_system: System = Field(sa_type=enum_type(System))
    destination_table: str = Field(max_length=60)
    destination_id: str | None = Field(default=None, max_length=64)
    destination_key: str | None = Field(default=None, max_length=100)
    destination_name: str | None = Field(default=None, max_length=250)
    destination_url: str | None = Field(default=None, max_length=2000)
    slack_channel: str | None = Field(default=None, max_length=32)
    slack_ts: str | None = Field(default=None, max_length=32)


# ---- Slack outbox, work queue, audit ---------------------------------------------------------------


class Notification(SQLModel, table=True):
    """Outbox row: something to post or edit in Slack, written in the same transaction as its cause."""

    __table_args__ = (Index("ix_notification_status_due", "status", "due_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: NotificationKind = Field(sa_type=enum_type(NotificationKind))
    status: NotificationStatus = Field(
        default=NotificationStatus.PENDING, sa_type=enum_type(NotificationStatus)
    )
    channel: str = Field(max_length=32)
    error_id: int | None = Field(default=None, index=True)  # no foreign key: a purge may outrun delivery
    digest_key: str | None = Field(default=None, max_length=64, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    slack_ts: str | None = Field(default=None, max_length=32)


class WorkItem(SQLModel, table=True):
    """Queued piece of work asked for by a person (or the schedule) that calls a business app."""

    __table_args__ = (Index("ix_workitem_status_due", "status", "due_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: str = Field(max_length=40)  # a queued action of the catalogue (bot.ids.ActionKey)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: WorkStatus = Field(default=WorkStatus.QUEUED, sa_type=enum_type(WorkStatus))
    attempts: int = 0
    requested_by: str | None = Field(default=None, max_length=100)
    door: Door = Field(default=Door.SLACK, sa_type=enum_type(Door))
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # renewed while it runs
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    result: str | None = Field(default=None, sa_type=Text)
    response_url: str | None = Field(default=None, max_length=2000)


class SeenRequest(SQLModel, table=True):
    """A signed Slack request already handled (its signature's digest), kept for the replay window."""

    key: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class LeaderFence(SQLModel, table=True):
    """The fencing token of a leadership (the clock's): raised by every new leader, checked by every job."""

    name: str = Field(primary_key=True, max_length=40)
    token: int = 0
    holder: str = Field(default="", max_length=200)
    taken_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Who did what, when, through which door, with which result."""

    __table_args__ = (Index("ix_auditentry_target_at", "target", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=100)
    door: Door = Field(sa_type=enum_type(Door))
    action: str = Field(max_length=40)
    target: str | None = Field(default=None, max_length=200)  # "error:17", "customer:10000", "CUSTOMER"
    result: str = Field(max_length=20)  # ok, refused, failed, queued
    detail: str = Field(default="", sa_type=Text)


class ScheduledJob(SQLModel, table=True):
    """One scheduled job as the scheduling process last reported it, and its pause switch.

    The scheduler (in `serve`, `clock` or `demo`) writes interval, next run and last result here; any other
    process (`sync-errors schedule`) reads them. `paused` is written by `pause`/`resume` and applied by the
    scheduler at its next reconcile. Per-mapping syncs keep their pause switch on Mapping.
    """

    id: str = Field(primary_key=True, max_length=60)  # "cleanup", "outbox", "sync:CUSTOMER"
    description: str = Field(default="", max_length=200)
    every_seconds: int | None = None  # interval jobs
    cron: str | None = Field(default=None, max_length=60)  # daily jobs, e.g. "daily 02:30 UTC"
    paused: bool = False
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_result: str | None = Field(default=None, max_length=300)  # "ok" or "failed: <reason>"
    next_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
