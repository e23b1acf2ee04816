"""Prometheus metrics: request latency measured here, store-backed figures read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.figures import store_figures

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
            figures = store_figures(session)
        for status, count in figures.notifications.items():
            notifications.add_metric([status], float(count))
        for status, count in figures.work_items.items():
            work.add_metric([status], float(count))
        for status, count in figures.errors.items():
            errors.add_metric([status], float(count))
        for mapping, count in figures.jobs.items():
            jobs.add_metric([mapping], float(count))
            failed.add_metric([mapping], float(figures.failed_records.get(mapping, 0)))
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
