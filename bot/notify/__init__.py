"""Slack notifications: the outbox delivery loop, burst digests, cause groups, threading and rate limits."""

from bot.notify.delivery import OutboxDelivery, backoff_seconds
from bot.notify.render import Message, Renderer, default_renderer
from bot.notify.report import DeliveryReport
from bot.notify.timing import DigestSettings, DigestTiming, window_closes_at
from storage.outbox import OutboxCounts, outbox_counts, pending_count

__all__ = [
    "DeliveryReport",
    "DigestSettings",
    "DigestTiming",
    "Message",
    "OutboxCounts",
    "OutboxDelivery",
    "Renderer",
    "backoff_seconds",
    "default_renderer",
    "outbox_counts",
    "pending_count",
    "window_closes_at",
]
