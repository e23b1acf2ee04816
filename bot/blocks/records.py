"""The two records behind an error, as words and as mrkdwn links (a link only where a URL exists)."""

from __future__ import annotations

from bot.blocks import mrkdwn
from bot.blocks.wording import CATEGORY_EMOJI, Wording
from storage.models import SyncError


def source_label(error: SyncError, w: Wording) -> str:
    """ "Business Central customer 10000 Adatum" (plain text)."""
    return w.record(error.source_system, error.source_table, error.source_key, error.source_name)


def destination_label(error: SyncError, w: Wording) -> str:
    """ "Dataverse account Adatum" (plain text)."""
    return w.record(
        error.destination_system, error.destination_table, error.destination_key, error.destination_name
    )


def source_link(error: SyncError, w: Wording) -> str:
    """The source record as a mrkdwn link, or escaped text when it has no URL."""
    return mrkdwn.link(error.source_url, source_label(error, w))


def destination_link(error: SyncError, w: Wording) -> str:
    """The destination record as a mrkdwn link, or escaped text when it has no URL."""
    return mrkdwn.link(error.destination_url, destination_label(error, w))


def records_line(error: SyncError, w: Wording) -> str:
    """ "<source> ↔ <destination>"."""
    return f"{source_link(error, w)} ↔ {destination_link(error, w)}"


def record_name(error: SyncError) -> str:
    """The shortest human name of the record (plain text; empty for job-level errors)."""
    for candidate in (error.source_name, error.source_key, error.destination_name, error.destination_key):
        if candidate:
            return candidate
    return ""


def emoji(error: SyncError) -> str:
    """The category's emoji."""
    return CATEGORY_EMOJI.get(error.category, "❌")


def title(error: SyncError, w: Wording) -> str:
    """ "Missing permission: Adatum" (plain text)."""
    name = record_name(error)
    category = w.category(error.category)
    return f"{category}: {name}" if name else category
