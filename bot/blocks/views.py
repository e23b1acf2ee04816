"""Modals (purge confirmation, snooze, couple) and the App Home tab."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import kit, mrkdwn
from bot.blocks.jobs import job_line, last_job_per_mapping, purge_buttons
from bot.blocks.message import MAX_VIEW_BLOCKS
from bot.blocks.notifications import count_lines
from bot.blocks.records import source_label
from bot.blocks.skipped import SkippedItem, skipped_home_section
from bot.blocks.wording import Word, Wording
from bot.ids import COMMAND, ActionId, BlockId, CallbackId, SnoozeOption
from storage.models import SyncError, SyncJob, System

MODAL_TITLE_CHARS = 24


def _plain(text: str, limit: int = MODAL_TITLE_CHARS) -> PlainTextObject:
    return PlainTextObject(text=mrkdwn.cut(text, limit), emoji=True)


def _options(choices: Sequence[tuple[str, str]]) -> list[Option]:
    return [Option(value=value, label=mrkdwn.cut(label, 75)) for value, label in choices]


def purge_metadata(older_than_days: int | None) -> str:
    """private_metadata of the purge modal: {"older_than_days": N} or {"older_than_days": null} for all."""
    return json.dumps({"older_than_days": older_than_days})


def build_purge_modal(count: int, older_than_days: int | None, *, locale: str = "en") -> View:
    """Says how many entries will be deleted before anything is; no submit button when there is nothing."""
    w = Wording(locale)
    if count <= 0:
        return View(
            type="modal",
            callback_id=CallbackId.PURGE_CONFIRM,
            title=_plain(w.word(Word.PURGE_TITLE)),
            close=_plain(w.word(Word.CLOSE)),
            private_metadata=purge_metadata(older_than_days),
            blocks=[kit.section(w.word(Word.NOTHING_TO_DELETE))],
        )
    return View(
        type="modal",
        callback_id=CallbackId.PURGE_CONFIRM,
        title=_plain(w.word(Word.PURGE_TITLE)),
        # Modal submit buttons have no danger style; the words and the warning carry it.
        submit=_plain(w.word(Word.PURGE_SUBMIT)),
        close=_plain(w.word(Word.CANCEL)),
        private_metadata=purge_metadata(older_than_days),
        blocks=[kit.section(w.purge_count(count, older_than_days)), kit.section(w.word(Word.CANNOT_UNDO))],
    )


def _error_modal(
    error: SyncError, callback_id: str, title: str, submit: str, w: Wording, blocks: list[Block]
) -> View:
    """A modal about one error (its id in private_metadata), with Cancel to close."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=_plain(title),
        submit=_plain(submit),
        close=_plain(w.word(Word.CANCEL)),
        private_metadata=str(error.id),
        blocks=blocks,
    )


def build_snooze_modal(error: SyncError, *, locale: str = "en") -> View:
    """Asks how long to snooze (1 h, 4 h, 24 h, 7 d); private_metadata is the error id."""
    w = Wording(locale)
    options = _options(w.snooze_options())
    initial = next(option for option in options if option.value == SnoozeOption.ONE_DAY)
    return _error_modal(
        error,
        CallbackId.SNOOZE,
        w.word(Word.SNOOZE_TITLE),
        w.word(Word.SNOOZE_SUBMIT),
        w,
        [
            kit.section(f"*{mrkdwn.escape(source_label(error, w))}*\n{w.snooze_text(error.id)}"),
            InputBlock(
                block_id=BlockId.SNOOZE_DURATION,
                label=_plain(w.word(Word.SNOOZE_LABEL), 2000),
                element=StaticSelectElement(
                    action_id=ActionId.SNOOZE_DURATION, options=options, initial_option=initial
                ),
            ),
        ],
    )


def build_couple_modal(error: SyncError, *, locale: str = "en") -> View:
    """Asks for the other record's reference (and what to copy after); private_metadata is the error id."""
    w = Wording(locale)
    other = System.DATAVERSE if error.source_system == System.BUSINESS_CENTRAL else System.BUSINESS_CENTRAL
    options = _options(w.couple_sync_options())
    return _error_modal(
        error,
        CallbackId.COUPLE,
        w.word(Word.COUPLE_TITLE),
        w.word(Word.COUPLE_SUBMIT),
        w,
        [
            kit.section(w.couple_text(f"*{mrkdwn.escape(source_label(error, w))}*", other)),
            InputBlock(
                block_id=BlockId.COUPLE_REFERENCE,
                label=_plain(w.couple_label(other), 2000),
                hint=_plain(w.word(Word.COUPLE_HINT), 2000),
                element=PlainTextInputElement(
                    action_id=ActionId.COUPLE_REFERENCE,
                    placeholder=_plain(w.word(Word.COUPLE_PLACEHOLDER), 150),
                    max_length=200,
                ),
            ),
            InputBlock(
                block_id=BlockId.COUPLE_SYNC,
                label=_plain(w.word(Word.COUPLE_SYNC_LABEL), 2000),
                element=StaticSelectElement(
                    action_id=ActionId.COUPLE_SYNC, options=options, initial_option=options[0]
                ),
            ),
        ],
    )


def build_home(
    counts: Sequence[tuple[str, str, int]],
    jobs: Sequence[SyncJob],
    next_runs: Sequence[tuple[str, datetime | None, bool]],
    *,
    locale: str = "en",
    retention_days: int = 7,
    now: datetime | None = None,
    skipped: Sequence[SkippedItem] = (),
    skipped_total: int = 0,
) -> View:
    """App Home: open errors by mapping and category, Skipped couplings, last jobs, next runs, actions."""
    w = Wording(locale)
    total = sum(count for _mapping, _category, count in counts)
    blocks: list[Block] = [kit.header(w.word(Word.HOME_TITLE))]
    if total:
        blocks.append(
            kit.section(f"*{w.open_error_count(total)}*\n" + "\n".join(count_lines(counts, w, top=30)))
        )
    else:
        blocks.append(kit.section(w.word(Word.NO_OPEN_ERRORS)))
    if skipped_total:
        blocks.append(DividerBlock())
        blocks += skipped_home_section(skipped, skipped_total, locale=locale)
    blocks.append(DividerBlock())
    job_lines = [job_line(job, w) for job in last_job_per_mapping(jobs)] or [w.word(Word.NO_JOBS)]
    blocks += kit.pack_lines([f"*{w.word(Word.LAST_JOBS)}*", *job_lines])
    blocks.append(DividerBlock())
    run_lines = [w.next_run(mrkdwn.escape(mapping), at, paused) for mapping, at, paused in next_runs]
    blocks += kit.pack_lines([f"*{w.word(Word.NEXT_RUNS)}*", *(run_lines or [w.word(Word.NO_SCHEDULE)])])
    blocks.append(DividerBlock())
    blocks.append(kit.section(f"*{w.word(Word.QUICK_ACTIONS)}*"))
    buttons = [
        kit.button(w.word(Word.BUTTON_REFRESH), ActionId.HOME_REFRESH, "home"),
        *purge_buttons(w, retention_days),
    ]
    blocks.append(kit.actions(buttons, block_id=BlockId.ACTIONS))
    if now is not None:
        blocks.append(kit.context(w.updated_at(now), w.help_hint(COMMAND)))
    return View(type="home", blocks=blocks[:MAX_VIEW_BLOCKS])
