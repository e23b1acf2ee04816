"""What one round of delivery did, and running totals for /metrics."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class DeliveryReport:
    """Counts of one `deliver_due` round (or, summed, of a delivery loop's life)."""

    claimed: int = 0
    posted: int = 0  # chat.postMessage calls that succeeded
    updated: int = 0  # chat.update calls that succeeded
    sent: int = 0  # rows that reached SENT
    held: int = 0  # new errors folded into a digest or cause thread
    dropped: int = 0
    failed: int = 0
    requeued: int = 0
    recovered: int = 0  # posts found in Slack after a crash instead of posting again

    def count_post(self, *, found: bool) -> None:
        """Count one post: made now, or found in Slack from an earlier attempt."""
        self.posted += 0 if found else 1
        self.recovered += 1 if found else 0

    def add(self, other: DeliveryReport) -> None:
        """Add another report's counts to this one."""
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))
