"""Prometheus metrics: request latency measured here, store-backed figures read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import ErrorStatus, Notification, SyncError, SyncJob, WorkItem

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)


class StoreCollector(Collector):
    """Reads the outbox, the work queue, the error log and the job log at each scrape."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield one gauge family per store figure."""
        notifications = GaugeMetricFamily(
            "sync_errors_notifications", "Slack notifications in the outbox by status", labels=["status"]
        )
        work = GaugeMetricFamily("sync_errors_work_items", "Work items by status", labels=["status"])
        errors = GaugeMetricFamily("sync_errors_errors", "Error entries by status", labels=["status"])
        jobs = GaugeMetricFamily(
            "sync_errors_sync_jobs", "Synchronization jobs in the job log by mapping", labels=["mapping"]
        )
        failed = GaugeMetricFamily(
            "sync_errors_sync_jobs_failed_records",
            "Failed records counted by the job log",
            labels=["mapping"],
        )
        with Session(self.db) as session:
            for status, count in session.exec(
                select(Notification.status, func.count()).group_by(Notification.status)
            ).all():
                notifications.add_metric([str(status)], float(count))
            for status, count in session.exec(
                select(WorkItem.status, func.count()).group_by(WorkItem.status)
            ):
                work.add_metric([str(status)], float(count))
            for status in ErrorStatus:
                count = session.exec(
                    select(func.count()).select_from(SyncError).where(SyncError.status == status)
                ).one()
                errors.add_metric([status.value], float(count))
            for mapping, count, failures in session.exec(
                select(SyncJob.mapping, func.count(), func.coalesce(func.sum(SyncJob.failed), 0)).group_by(
                    SyncJob.mapping
                )
            ):
                jobs.add_metric([mapping], float(count))
                failed.add_metric([mapping], float(failures))
        yield from (notifications, work, errors, jobs, failed)


class Metrics:
    """The metrics of one process: a registry with request latency and the store collector."""

    def __init__(self, db: Engine) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "sync_errors_slack_request_seconds",
            "Time from receiving a Slack request to answering it (the ack), by kind",
            labelnames=["kind"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(StoreCollector(db))
