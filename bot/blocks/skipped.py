"""The Skipped couplings (Business Central's Coupled Data Synchronization Errors): the list, App Home's
section and the summary's line; each with Re-sync and Remove coupling, and Restore / Delete record when its
last error is a deleted record (the actions of Business Central's page)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.blocks import kit, mrkdwn
from bot.blocks.message import Message
from bot.blocks.notifications import deletion_fix_buttons
from bot.blocks.records import emoji, title
from bot.blocks.wording import Word, Wording
from bot.ids import ActionId
from storage.models import Category, Coupling, SyncError, System

SkippedItem = tuple[Coupling, SyncError | None]
HOME_ITEMS = 5
LIST_ITEMS = 20
MESSAGE_CHARS = 150


# The terminal's record references name Business Central tables in the singular (customer:10000).
_REFERENCE_TABLES = {"customers": "customer", "contacts": "contact", "currencies": "currency",
                     "items": "item", "salespeople": "salesperson"}  # fmt: skip


def _records(coupling: Coupling, w: Wording) -> tuple[str, str]:
    bc = w.record(System.BUSINESS_CENTRAL, coupling.bc_table, coupling.bc_key, coupling.name)
    dataverse = w.record(System.DATAVERSE, coupling.dataverse_table, None, None)
    return bc, dataverse


def _url(error: SyncError | None, system: System) -> str | None:
    if error is None:
        return None
    if error.source_system == system:
        return error.source_url
    return error.destination_url if error.destination_system == system else None


def skipped_item(coupling: Coupling, error: SyncError | None, w: Wording) -> list[Block]:
    """One Skipped coupling: both records, the mapping, when it failed, its last error; the two fixes."""
    bc, dataverse = _records(coupling, w)
    links = (
        f"{mrkdwn.link(_url(error, System.BUSINESS_CENTRAL), bc)} ↔ "
        f"{mrkdwn.link(_url(error, System.DATAVERSE), dataverse)}"
    )
    failed_at = error.last_seen_at if error is not None else coupling.updated_at
    facts = f"{mrkdwn.escape(coupling.mapping)} · {w.skipped_failed_on(failed_at)}"
    text = f"⏭️ {links}\n{facts}"
    if error is not None:
        text += f"\n{emoji(error)} *{mrkdwn.escape(title(error, w))}*"
        if error.message.strip():
            text += "\n" + mrkdwn.quote(
                mrkdwn.escape(mrkdwn.cut(mrkdwn.one_line(error.message), MESSAGE_CHARS))
            )
    blocks: list[Block] = [kit.section(text)]
    if error is not None and error.id is not None:
        value = str(error.id)
        deleted = error.category == Category.DELETED_RECORD
        resync_style = None if deleted else "primary"
        blocks.append(
            kit.actions(
                [
                    *(deletion_fix_buttons(value, bc, w) if deleted else []),
                    kit.button(w.word(Word.BUTTON_RESYNC), ActionId.RESYNC, value, style=resync_style),
                    kit.button(
                        w.word(Word.BUTTON_UNCOUPLE),
                        ActionId.UNCOUPLE,
                        value,
                        confirm_with=kit.confirm(*w.confirm_uncouple(bc, dataverse), w.word(Word.CANCEL)),
                    ),
                ]
            )
        )
    else:
        table = _REFERENCE_TABLES.get(coupling.bc_table, coupling.bc_table)
        ref = f"{table}:{coupling.bc_key or coupling.bc_id}"
        resync = f"`sync-errors resync --failed --mapping {coupling.mapping}`"
        uncouple = f"`sync-errors uncouple {shlex.quote(ref)}`"
        blocks.append(kit.context(w.skipped_no_entry(resync, uncouple)))
    return blocks


def skipped_blocks(items: Sequence[SkippedItem], total: int, w: Wording, *, limit: int) -> list[Block]:
    """The heading line, up to `limit` couplings with their fixes, and how many are shown."""
    if total == 0:
        return [kit.section(w.word(Word.NO_SKIPPED))]
    blocks: list[Block] = [kit.section(w.skipped_explain(total))]
    shown = list(items[:limit])
    for coupling, error in shown:
        candidate = [*blocks, *skipped_item(coupling, error, w)]
        if not kit.fits(candidate):
            break
        blocks = candidate
    listed = (len(blocks) - 1) // 2
    if listed < total:
        blocks.append(kit.context(w.skipped_shown(listed, total)))
    return blocks


def build_skipped_list(items: Sequence[SkippedItem], total: int, *, locale: str = "en") -> Message:
    """`/sync-errors skipped`: the Skipped couplings, each with Re-sync and Remove coupling."""
    w = Wording(locale)
    blocks: list[Block] = [kit.header(w.word(Word.SKIPPED_TITLE))]
    blocks += skipped_blocks(items, total, w, limit=LIST_ITEMS)
    return Message(text=w.skipped_explain(total) if total else w.word(Word.NO_SKIPPED), blocks=blocks)


def skipped_home_section(items: Sequence[SkippedItem], total: int, *, locale: str = "en") -> list[Block]:
    """App Home's Skipped section (nothing when there are none)."""
    if total == 0:
        return []
    w = Wording(locale)
    return [kit.header(w.word(Word.SKIPPED_TITLE)), *skipped_blocks(items, total, w, limit=HOME_ITEMS)]


def skipped_summary_line(total: int, *, locale: str = "en") -> str | None:
    """The daily summary's line about Skipped couplings (None when there are none)."""
    return f"⏭️ {Wording(locale).skipped_explain(total)}" if total else None
