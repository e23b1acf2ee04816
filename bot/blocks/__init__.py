"""Pure builders of Slack messages and views: data in, Block Kit out (no I/O, no queries)."""

from __future__ import annotations

from bot.blocks.listing import build_error_details, build_error_list, more_value, read_more_value
from bot.blocks.message import Message
from bot.blocks.notifications import (
    DIGEST_PAGE_SIZE,
    build_cause_message,
    build_digest_message,
    build_digest_page,
    build_error_message,
    build_repeat_reply,
    build_text,
    digest_pages,
)
from bot.blocks.replies import (
    build_action_result,
    build_already_done,
    build_audit,
    build_help,
    build_refusal,
    build_status,
    build_summary,
    build_usage_error,
)
from bot.blocks.terminal import render_for_terminal
from bot.blocks.views import build_couple_modal, build_home, build_purge_modal, build_snooze_modal

__all__ = [
    "DIGEST_PAGE_SIZE",
    "Message",
    "build_action_result",
    "build_already_done",
    "build_audit",
    "build_cause_message",
    "build_couple_modal",
    "build_digest_message",
    "build_digest_page",
    "build_error_details",
    "build_error_list",
    "build_error_message",
    "build_help",
    "build_home",
    "build_purge_modal",
    "build_refusal",
    "build_repeat_reply",
    "build_snooze_modal",
    "build_status",
    "build_summary",
    "build_text",
    "build_usage_error",
    "digest_pages",
    "more_value",
    "read_more_value",
    "render_for_terminal",
]
