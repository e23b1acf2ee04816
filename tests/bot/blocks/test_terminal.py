"""Terminal rendering of Slack messages (what the demo prints): styles, links in words, wrapping."""

from __future__ import annotations

import io

from rich.console import Console

from bot.blocks import build_error_message, build_text, render_for_terminal
from bot.blocks.terminal import mrkdwn_to_rich, mrkdwn_to_text, render_rich
from storage.models import Category
from tests.bot.blocks.factory import error


def test_error_message_reads_well_in_a_terminal() -> None:
    out = render_for_terminal(
        build_error_message(error(category=Category.DELETED_RECORD, message="a < b & c"))
    )
    lines = out.splitlines()
    assert lines[0] == "🗑️ Coupled record was deleted: Adatum Corporation"
    assert lines[1].startswith("Business Central customer 10000 Adatum Corporation (https://businesscentral")
    assert lines[1].endswith("↔ Dataverse account")
    assert "│ a < b & c" in lines
    assert "first seen 2026-11-20 08:15 UTC" in out
    assert "*" not in out and "`" not in out and "<http" not in out
    assert (
        lines[-1]
        == "[Restore record] [Delete record] [Remove coupling] [Re-sync] [Snooze…] [Details] [Delete entry]"
    )


def test_mrkdwn_to_text() -> None:
    assert (
        mrkdwn_to_text("<@U123> <!here> <#C1|general> <https://x|y> <https://z>")
        == "@U123 @here #general y (https://x) https://z"
    )
    assert mrkdwn_to_text("*bold* and `code` and _it_ but 2*3*4 and snake_case_name") == (
        "bold and code and it but 2*3*4 and snake_case_name"
    )
    assert render_for_terminal(build_text("hello")) == "hello"


def test_mrkdwn_becomes_terminal_styles() -> None:
    text = mrkdwn_to_rich("*Mapping* `CUSTOMER` <https://x.example|the page>")
    styles = {text.plain[span.start : span.end]: span.style for span in text.spans}
    assert getattr(styles["Mapping"], "bold", False)
    assert str(styles["CUSTOMER"]) == "cyan"
    assert getattr(styles["the page"], "link", None) == "https://x.example"


def test_a_long_message_wraps_at_80_columns_without_losing_words() -> None:
    message = build_error_message(error(category=Category.PERMISSIONS, message="word " * 60))
    buffer = io.StringIO()
    Console(file=buffer, width=80, color_system=None).print(render_rich(message))
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert buffer.getvalue().count("word") == render_for_terminal(message).count("word") > 10
    assert "[Details]" in buffer.getvalue()
