"""Pure builders of Slack messages and views: data in, Block Kit out (no I/O, no queries)."""

from __future__ import annotations

from bot.blocks.answers import (
    build_already_queued,
    build_entry_deleted,
    build_failure,
    build_input_error,
    build_problem,
    build_purged,
    build_queued,
    build_snoozed,
)
from bot.blocks.doctor import build_doctor_report, build_doctor_working
from bot.blocks.listing import build_error_details, build_error_list, more_value, read_more_value
from bot.blocks.message import Message
from bot.blocks.notifications import (
    DIGEST_PAGE_SIZE,
    build_cause_message,
    build_digest_message,
    build_digest_page,
    build_error_message,
    build_repeat_reply,
    build_state_reply,
    build_text,
    digest_pages,
)
from bot.blocks.refusals import build_not_allowed
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
from bot.blocks.schedule import build_interval_set, build_paused, build_resumed, build_schedule
from bot.blocks.skipped import build_skipped_list, skipped_home_section, skipped_summary_line
from bot.blocks.terminal import render_for_terminal
from bot.blocks.views import build_couple_modal, build_home, build_purge_modal, build_snooze_modal
from bot.blocks.wording import AdminAction, Problem

__all__ = [
    "AdminAction",
    "DIGEST_PAGE_SIZE",
    "Message",
    "Problem",
    "build_action_result",
    "build_already_done",
    "build_already_queued",
    "build_audit",
    "build_cause_message",
    "build_couple_modal",
    "build_digest_message",
    "build_digest_page",
    "build_doctor_report",
    "build_doctor_working",
    "build_entry_deleted",
    "build_error_details",
    "build_error_list",
    "build_error_message",
    "build_failure",
    "build_help",
    "build_home",
    "build_input_error",
    "build_interval_set",
    "build_not_allowed",
    "build_paused",
    "build_problem",
    "build_purge_modal",
    "build_skipped_list",
    "skipped_home_section",
    "skipped_summary_line",
    "build_purged",
    "build_queued",
    "build_refusal",
    "build_repeat_reply",
    "build_resumed",
    "build_schedule",
    "build_snooze_modal",
    "build_snoozed",
    "build_state_reply",
    "build_status",
    "build_summary",
    "build_text",
    "build_usage_error",
    "digest_pages",
    "more_value",
    "read_more_value",
    "render_for_terminal",
]
