"""Build and publish one user's Home tab: open errors, last jobs, next runs, quick actions."""

from __future__ import annotations

import logging

from bot.blocks import build_home
from bot.operations import reports
from handlers.request import SlackRequest
from storage.types import utcnow

log = logging.getLogger(__name__)


def publish_home(request: SlackRequest) -> None:
    """views.publish the Home tab for the request's user (a failure is logged; the next open retries)."""
    settings = request.services.settings
    home = reports.home(request.db, default_minutes=settings.sync_interval_minutes)
    view = build_home(
        home.counts,
        home.jobs,
        home.next_runs,
        locale=request.locale,
        retention_days=settings.retention_days,
        now=utcnow(),
        skipped=home.skipped.items,
        skipped_total=home.skipped.total,
    )
    try:
        request.client.views_publish(user_id=request.actor.id, view=view)
    except Exception as exc:  # noqa: BLE001 - Slack down: the Home tab stays as it was
        log.warning("views.publish for %s failed: %s", request.actor.id, exc)
