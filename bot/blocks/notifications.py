"""Channel notifications: one error, its repeats, one cause behind many records, bursts, plain lines."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ButtonElement

from bot.blocks import kit, mrkdwn
from bot.blocks.message import MAX_MESSAGE_BLOCKS, Message
from bot.blocks.records import (
    destination_label,
    emoji,
    record_name,
    records_line,
    source_label,
    source_link,
    title,
)
from bot.blocks.wording import CATEGORY_EMOJI, Word, Wording
from bot.ids import ActionId, BlockId
from bot.phrases import ADVICE_FACT, SAID_FACT, Phrase
from storage.models import Category, ErrorStatus, SyncError

MESSAGE_CHARS = 250  # like Sentry's 256: the full text is behind "Details"
HINT_CHARS = 1500
DIGEST_LINE_CHARS = 120
DIGEST_PAGE_SIZE = 40
DIGEST_TOP = 5
MAX_CANDIDATE_BUTTONS = 5

_SETUP_CATEGORIES = frozenset(
    {
        Category.PERMISSIONS,
        Category.CREDENTIALS,
        Category.EXCHANGE_RATE,
        Category.ADMIN_INTEGRATION_USER,
        Category.ADMIN_MODE,
    }
)


def _value(error: SyncError) -> str:
    return str(error.id)


def deletion_fix_buttons(value: str, surviving: str, w: Wording) -> list[ButtonElement]:
    """Restore record and Delete record (confirmed, naming the surviving record) of a deleted-record error."""
    return [
        kit.button(w.word(Word.BUTTON_RESTORE), ActionId.RESTORE_RECORD, value, style="primary"),
        kit.button(
            w.word(Word.BUTTON_DELETE_RECORD),
            ActionId.DELETE_RECORD,
            value,
            style="danger",
            confirm_with=kit.confirm(*w.confirm_delete_record(surviving), w.word(Word.CANCEL)),
        ),
    ]


def category_buttons(error: SyncError, w: Wording) -> list[ButtonElement]:
    """The buttons that fit the error's category, then Snooze…, Details and Delete entry.

    Every message keeps a Re-sync: the fix a wrong guess about the cause can never make worse.
    """
    value = _value(error)
    buttons: list[ButtonElement] = []
    if error.category == Category.DELETED_RECORD:
        source, destination = source_label(error, w), destination_label(error, w)
        buttons += [
            *deletion_fix_buttons(value, source, w),
            kit.button(
                w.word(Word.BUTTON_UNCOUPLE),
                ActionId.UNCOUPLE,
                value,
                confirm_with=kit.confirm(*w.confirm_uncouple(source, destination), w.word(Word.CANCEL)),
            ),
            kit.button(w.word(Word.BUTTON_RESYNC), ActionId.RESYNC, value),
        ]
    elif error.category == Category.DEPENDENCY_NOT_COUPLED:
        buttons += [
            kit.button(
                w.word(Word.BUTTON_COUPLE_DEPENDENCY), ActionId.COUPLE_DEPENDENCY, value, style="primary"
            ),
            kit.button(w.word(Word.BUTTON_RESYNC), ActionId.RESYNC, value),
        ]
    elif error.category == Category.UPDATE_CONFLICT:
        buttons += [
            kit.button(w.word(Word.BUTTON_KEEP_BC), ActionId.KEEP_BC, value),
            kit.button(w.word(Word.BUTTON_KEEP_DATAVERSE), ActionId.KEEP_DATAVERSE, value),
            kit.button(w.word(Word.BUTTON_RESYNC), ActionId.RESYNC, value),
        ]
    elif error.category in _SETUP_CATEGORIES:
        buttons.append(
            kit.button(w.word(Word.BUTTON_RESYNC_ONCE_FIXED), ActionId.RESYNC, value, style="primary")
        )
    else:
        buttons.append(kit.button(w.word(Word.BUTTON_RESYNC), ActionId.RESYNC, value, style="primary"))
        if error.category in (Category.VALIDATION, Category.SEVERAL_MATCHES) and not error.destination_id:
            buttons.append(kit.button(w.word(Word.BUTTON_COUPLE), ActionId.COUPLE, value))
        if error.category == Category.SEVERAL_MATCHES:
            other = "dataverse" if error.source_system == "business_central" else "business_central"
            buttons.append(
                kit.button(
                    w.button_create_partner(w.system(other)),
                    ActionId.COUPLE_CREATE,
                    value,
                    confirm_with=kit.confirm(*w.confirm_create_partner(w.system(other)), w.word(Word.CANCEL)),
                )
            )
    buttons += [
        kit.button(w.word(Word.BUTTON_SNOOZE), ActionId.SNOOZE, value),
        kit.button(w.word(Word.BUTTON_DETAILS), ActionId.SHOW_DETAILS, value),
        kit.button(
            w.word(Word.BUTTON_DELETE_ENTRY),
            ActionId.DELETE_ERROR,
            value,
            confirm_with=kit.confirm(*w.confirm_delete_entry(error.id), w.word(Word.CANCEL)),
        ),
    ]
    return buttons


def state_line(error: SyncError, w: Wording) -> str | None:
    """ "✅ Resolved by …" / "😴 Snoozed until …", or None while the error is open."""
    if error.status == ErrorStatus.RESOLVED:
        resolution = w.resolution(error.resolution) if error.resolution else None
        return w.resolved(mrkdwn.user(error.resolved_by), error.resolved_at, resolution)
    if error.status == ErrorStatus.SNOOZED:
        by = mrkdwn.user(error.resolved_by) if error.resolved_by else None
        return w.snoozed(error.snoozed_until, by)
    return None


def error_context(error: SyncError, w: Wording) -> list[Block]:
    """The context line (mapping, direction, occurrences, first/last seen) and the footer (ids)."""
    seen = [w.first_seen(error.created_at)]
    if error.occurrences > 1 or error.last_seen_at != error.created_at:
        seen.append(w.last_seen(error.last_seen_at))
    footer = [w.error_ref(error.id)]
    if error.job_id:
        footer.append(w.job_ref(mrkdwn.escape(error.job_id)))
    if error.code:
        footer.append(w.code(f"`{mrkdwn.escape(error.code)}`"))
    return [
        kit.context(
            w.mapping(f"*{mrkdwn.escape(error.mapping)}*"),
            w.direction(error.direction),
            w.occurrences(error.occurrences),
            *seen,
        ),
        kit.context(*footer),
    ]


def error_body(error: SyncError, w: Wording) -> list[Block]:
    """Title, both records, the short message, the hint and the context: what stays after resolution."""
    blocks: list[Block] = [
        kit.section(f"{emoji(error)} *{mrkdwn.escape(title(error, w))}*\n{records_line(error, w)}")
    ]
    if error.message.strip():
        blocks.append(
            kit.section(mrkdwn.quote(mrkdwn.escape(mrkdwn.cut(message_text(error, w), MESSAGE_CHARS))))
        )
    hint = hint_text(error, w)
    if hint:
        blocks.append(kit.section(f"💡 {hint}"))
    blocks += error_context(error, w)
    return blocks


def candidate_blocks(error: SyncError, w: Wording) -> list[Block]:
    """Several matches: each candidate as a line with its link and a Couple button of its own."""
    if error.category != Category.SEVERAL_MATCHES:
        return []
    blocks: list[Block] = []
    candidates = (error.facts or {}).get("candidates") or []
    for index, candidate in enumerate(candidates[:MAX_CANDIDATE_BUTTONS]):
        if not isinstance(candidate, dict):
            continue
        words = " ".join(str(candidate.get(k) or "") for k in ("key", "name")).strip() or str(
            candidate.get("id")
        )
        label = mrkdwn.escape(words)
        url = candidate.get("url")
        text = f"• {mrkdwn.link(str(url), label) if url else label}"
        button = kit.button(w.word(Word.BUTTON_COUPLE_THIS), ActionId.COUPLE_CANDIDATE, f"{error.id}:{index}")
        blocks.append(kit.section(text, accessory=button))
    return blocks


def message_text(error: SyncError, w: Wording) -> str:
    """An error's short message as plain text: ours in the reader's words, an app's as the app said it."""
    said = Phrase.from_data((error.facts or {}).get(SAID_FACT)) if w.locale != "en" else None
    return w.say_plain(said) if said is not None else error.message


def hint_text(error: SyncError, w: Wording) -> str:
    """The hint as mrkdwn in the reader's words (from the advice kept with the facts), else the stored one."""
    advice = Phrase.from_data((error.facts or {}).get(ADVICE_FACT)) if w.locale != "en" else None
    if advice is not None:
        return mrkdwn.cut(w.say(advice), HINT_CHARS)
    return mrkdwn.escape(mrkdwn.cut(error.hint, HINT_CHARS)) if error.hint.strip() else ""


def terminal_hint(error: SyncError, locale: str | None) -> str:
    """An error's whole hint as mrkdwn for the terminal, in the reader's words (fixes are commands there)."""
    w = Wording(locale)
    advice = Phrase.from_data((error.facts or {}).get(ADVICE_FACT)) if w.locale != "en" else None
    if advice is not None:
        return w.say(advice)
    return mrkdwn.escape(error.hint).replace("buttons below", "commands below")


def fallback(error: SyncError, w: Wording) -> str:
    """Plain text of an error (notifications, screen readers)."""
    text = f"{emoji(error)} {title(error, w)}"
    if error.message.strip():
        text += f" — {mrkdwn.cut(mrkdwn.one_line(message_text(error, w)), 150)}"
    return mrkdwn.escape(text)


def build_error_message(error: SyncError, *, locale: str = "en") -> Message:
    """The channel message of one error: buttons while open, a state line once resolved or snoozed."""
    w = Wording(locale)
    blocks = error_body(error, w)
    state = state_line(error, w)
    if state is None:
        blocks += candidate_blocks(error, w)
        blocks.append(kit.actions(category_buttons(error, w), block_id=BlockId.ACTIONS))
    else:
        blocks.append(kit.section(state))
    return Message(text=fallback(error, w), blocks=blocks)


def build_repeat_reply(error: SyncError, *, locale: str = "en") -> Message:
    """The thread reply when the same error happens again: the count and when."""
    w = Wording(locale)
    line = w.repeat(error.occurrences, error.last_seen_at)
    parts = [line]
    if error.message.strip():
        parts.append(mrkdwn.quote(mrkdwn.escape(mrkdwn.cut(message_text(error, w), MESSAGE_CHARS))))
    blocks: list[Block] = [kit.section("\n".join(parts))]
    if error.job_id:
        blocks.append(kit.context(w.job_ref(mrkdwn.escape(error.job_id))))
    return Message(text=mrkdwn.escape(w.repeat_fallback(title(error, w), error.occurrences)), blocks=blocks)


def cause_headline(sample: SyncError, w: Wording) -> str:
    """What the one setup cause is ("Missing privilege prvCreateAccount"), plain text."""
    if sample.category == Category.DEPENDENCY_NOT_COUPLED:
        return w.word(Word.PARENTS_NOT_COUPLED)  # one cause, whichever parents: the thread names them
    privilege = sample.facts.get("privilege") if isinstance(sample.facts, dict) else None
    if isinstance(privilege, str) and privilege:
        return w.missing_privilege(privilege)
    return w.category(sample.category)


def build_cause_message(sample: SyncError, count: int, *, locale: str = "en") -> Message:
    """One setup cause behind many failed records: what it is, how many, the hint, Re-sync for the sample."""
    w = Wording(locale)
    headline = w.records_failed(cause_headline(sample, w), count)
    blocks: list[Block] = [kit.section(f"{emoji(sample)} *{mrkdwn.escape(headline)}*")]
    if sample.message.strip() and sample.category != Category.DEPENDENCY_NOT_COUPLED:
        blocks.append(
            kit.section(mrkdwn.quote(mrkdwn.escape(mrkdwn.cut(message_text(sample, w), MESSAGE_CHARS))))
        )
    hint = hint_text(sample, w)
    if hint:
        blocks.append(kit.section(f"💡 {hint}"))
    blocks.append(kit.context(w.example(source_link(sample, w)), w.word(Word.LIST_IN_THREAD)))
    blocks += error_context(sample, w)
    value = _value(sample)
    blocks.append(
        kit.actions(
            [
                kit.button(w.word(Word.BUTTON_RESYNC_ONCE_FIXED), ActionId.RESYNC, value, style="primary"),
                kit.button(w.word(Word.BUTTON_SNOOZE), ActionId.SNOOZE, value),
                kit.button(w.word(Word.BUTTON_DETAILS), ActionId.SHOW_DETAILS, value),
            ],
            block_id=BlockId.ACTIONS,
        )
    )
    return Message(text=mrkdwn.escape(f"{emoji(sample)} {headline}"), blocks=blocks)


def count_lines(counts: Sequence[tuple[str, str, int]], w: Wording, *, top: int = 10) -> list[str]:
    """ "• CUSTOMER · 🔒 Missing permission: *12*" for the largest (mapping, category) groups."""
    ordered = sorted(counts, key=lambda row: (-row[2], row[0], row[1]))
    lines = [
        f"• *{mrkdwn.escape(mapping)}* · {CATEGORY_EMOJI.get(category, '❌')} "
        f"{mrkdwn.escape(w.category(category))}: *{w.number(count)}*"
        for mapping, category, count in ordered[:top]
    ]
    if len(ordered) > top:
        lines.append(w.and_more(sum(row[2] for row in ordered[top:])))
    return lines


def cause_lines(errors: Sequence[SyncError], w: Wording, *, top: int = 10) -> list[str]:
    """ "• 🔒 Missing privilege prvCreateAccount: *800*" for the causes that brought most errors."""
    counts = Counter((emoji(error), cause_headline(error, w)) for error in errors)
    ordered = counts.most_common()
    lines = [
        f"• {mark} {mrkdwn.escape(label)}: *{w.number(count)}*" for (mark, label), count in ordered[:top]
    ]
    if len(ordered) > top:
        lines.append(w.and_more(sum(count for _, count in ordered[top:])))
    return lines


def _top_records(errors: Sequence[SyncError], w: Wording) -> list[str]:
    by_record: Counter[tuple[str, str, str]] = Counter()
    links: dict[tuple[str, str, str], str] = {}
    for error in errors:
        name = record_name(error)
        if not name:
            continue
        key = (error.source_system, error.source_table, name)
        by_record[key] += 1
        links.setdefault(key, source_link(error, w))
    return [f"• {links[key]} ({w.number(count)})" for key, count in by_record.most_common(DIGEST_TOP)]


def build_digest_message(errors: Sequence[SyncError], *, locale: str = "en") -> Message:
    """A burst's parent message: counts by cause, by mapping and category, top records; list in its thread."""
    w = Wording(locale)
    counts = Counter((error.mapping, str(error.category)) for error in errors)
    rows = [(mapping, category, count) for (mapping, category), count in counts.items()]
    title_text = w.new_errors(len(errors))
    blocks: list[Block] = [
        kit.header(f"🔥 {title_text}"),
        kit.section(f"*{w.word(Word.BY_CAUSE)}*\n" + "\n".join(cause_lines(errors, w))),
        kit.section(f"*{w.word(Word.BY_MAPPING_AND_CATEGORY)}*\n" + "\n".join(count_lines(rows, w))),
    ]
    top = _top_records(errors, w)
    if top:
        blocks.append(kit.section(f"*{w.word(Word.TOP_RECORDS)}*\n" + "\n".join(top)))
    seen = [error.created_at for error in errors]
    parts = [w.word(Word.LIST_IN_THREAD)]
    if seen:
        parts += [w.first_seen(min(seen)), w.last_seen(max(seen))]
    blocks.append(kit.context(*parts))
    return Message(text=title_text, blocks=blocks)


def digest_line(error: SyncError, w: Wording) -> str:
    """One compact line of a digest page: id, emoji, record link, short message."""
    line = f"`#{error.id}` {emoji(error)} {source_link(error, w)}"
    if error.message.strip():
        line += f" — {mrkdwn.escape(mrkdwn.cut(mrkdwn.one_line(error.message), DIGEST_LINE_CHARS))}"
    return line


def digest_pages(errors: Sequence[SyncError], *, size: int = DIGEST_PAGE_SIZE) -> list[list[SyncError]]:
    """Split a burst into the pages the thread replies show."""
    return [list(errors[start : start + size]) for start in range(0, len(errors), size)] or [[]]


def build_digest_page(errors: Sequence[SyncError], *, page: int, pages: int, locale: str = "en") -> Message:
    """One thread reply of a digest: its errors compactly with ids, always inside Slack's limits."""
    w = Wording(locale)
    heading = kit.context(w.page(page, pages))
    lines = [digest_line(error, w) for error in errors]
    shown = len(lines)
    while True:
        rest = len(lines) - shown
        body = kit.pack_lines(lines[:shown] + ([w.and_more(rest)] if rest else []))
        blocks: list[Block] = [heading, *body]
        if kit.fits(blocks) or shown == 0:
            break
        shown -= 1
    return Message(text=f"{w.page(page, pages)}: {w.new_errors(len(errors))}", blocks=blocks)


def build_state_reply(error: SyncError, *, locale: str = "en") -> Message:
    """ "`#17` <record>: ✅ Resolved by @x at <date>" for an error listed in a digest thread."""
    w = Wording(locale)
    text = f"`#{error.id}` {source_link(error, w)}: {state_line(error, w) or w.status(error.status)}"
    return Message(text=text, blocks=[kit.section(text)])


def build_text(text: str) -> Message:
    """A plain line from the bot (cleanup count, health alert, recovery); `text` is mrkdwn written by us."""
    lines = [line for line in text.splitlines() if line.strip()] or ["…"]
    blocks: list[Block] = list(kit.pack_lines(lines)[:MAX_MESSAGE_BLOCKS])
    while len(blocks) > 1 and not kit.fits(blocks):
        blocks.pop()
    return Message(text=mrkdwn.cut(text, 3000) or "…", blocks=blocks)
