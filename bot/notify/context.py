"""What every kind of notification needs while it is being delivered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.notify.render import Renderer
from bot.notify.report import DeliveryReport
from bot.notify.slack import SlackGateway
from bot.notify.timing import DigestSettings


@dataclass
class Context:
    """Shared collaborators and limits of one delivery loop, plus the report of the current round."""

    db: Engine
    slack: SlackGateway
    render: Renderer
    locale: str
    timing: DigestSettings
    clock: Callable[[], datetime]
    page_size: int
    repeat_gap: timedelta
    report: DeliveryReport
