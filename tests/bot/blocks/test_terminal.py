"""Terminal rendering of Slack messages (what the demo prints)."""

from __future__ import annotations

from bot.blocks import build_error_message, build_text, render_for_terminal
from bot.blocks.terminal import mrkdwn_to_text
from storage.models import Category
from tests.bot.blocks.factory import error


def test_error_message_reads_well_in_a_terminal() -> None:
    out = render_for_terminal(
        build_error_message(error(category=Category.DELETED_RECORD, message="a < b & c"))
    )
    lines = out.splitlines()
    assert lines[0] == "🗑️ *Coupled record was deleted: Adatum Corporation*"
    assert lines[1].startswith("Business Central customer 10000 Adatum Corporation <https://businesscentral")
    assert lines[1].endswith("↔ Dataverse account")
    assert "  │ a < b & c" in lines
    assert "first seen 2026-11-20 08:15 UTC" in out
    assert (
        lines[-1]
        == "[Restore record] [Delete record] [Remove coupling] [Re-sync] [Snooze…] [Details] [Delete entry]"
    )


def test_mrkdwn_to_text() -> None:
    assert (
        mrkdwn_to_text("<@U123> <!here> <#C1|general> <https://x|y> <https://z>")
        == "@U123 @here #general y <https://x> <https://z>"
    )
    assert render_for_terminal(build_text("hello")) == "hello"
