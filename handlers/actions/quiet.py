"""Elements Slack reports but that need no answer: link buttons and inputs inside modals."""

from __future__ import annotations

from slack_bolt import Ack

from handlers.acking import done_at_ack


@done_at_ack
def handle_quietly(ack: Ack) -> None:
    """Acknowledge (a link button opens its URL in Slack; modal inputs are read at submit)."""
    ack()
