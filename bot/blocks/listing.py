"""The error list (paged with a "More" button carrying a cursor) and one error's details."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, SectionBlock

from bot.blocks import kit, mrkdwn
from bot.blocks.message import Message
from bot.blocks.notifications import category_buttons, error_body, message_text, state_line
from bot.blocks.records import destination_link, emoji, source_link, title
from bot.blocks.wording import Word, Wording
from bot.ids import ActionId, BlockId
from bot.phrases import ADVICE_FACT, SAID_FACT
from storage.models import ErrorStatus, SyncError

MAX_LIST_ITEMS = 20
LIST_MESSAGE_CHARS = 150
DETAIL_CHARS = 2800
MAX_FACTS = 10


def more_value(before_id: int, query: str = "") -> str:
    """The "More" button's value: the keyset cursor, then the list's words (e.g. `list --mapping X`)."""
    return f"{before_id} {query}".strip()[:2000]


def read_more_value(value: str) -> tuple[int, str]:
    """Read a "More" button's value back into (before_id, the list's words); ValueError if it is not one."""
    cursor, _space, query = value.partition(" ")
    return int(cursor), query


def list_item(error: SyncError, w: Wording) -> SectionBlock:
    """One error of the list: id, category, record link, mapping, status, short message; Details button."""
    head = f"`#{error.id}` {emoji(error)} *{mrkdwn.escape(title(error, w))}* · {source_link(error, w)}"
    facts = f"{mrkdwn.escape(error.mapping)} · {w.status(error.status)} · {w.occurrences(error.occurrences)}"
    text = f"{head}\n{facts}"
    if error.message.strip():
        text += "\n" + mrkdwn.quote(
            mrkdwn.escape(mrkdwn.cut(mrkdwn.one_line(message_text(error, w)), LIST_MESSAGE_CHARS))
        )
    return kit.section(
        text, accessory=kit.button(w.word(Word.BUTTON_DETAILS), ActionId.SHOW_DETAILS, str(error.id))
    )


def build_error_list(
    errors: Sequence[SyncError], *, next_before_id: int | None, locale: str = "en", query: str = "list"
) -> Message:
    """A page of errors (newest first); a "More" button when there is more, always inside Slack's limits."""
    w = Wording(locale)
    if not errors:
        return Message(text=w.word(Word.NO_ERRORS_MATCH), blocks=[kit.section(w.word(Word.NO_ERRORS_MATCH))])

    def tail(shown: int) -> list[Block]:
        cursor = next_before_id if shown == len(errors) else errors[shown - 1].id
        return _more_blocks(cursor, query, w)

    items = [list_item(error, w) for error in errors[:MAX_LIST_ITEMS]]
    shown, blocks = kit.most_that_fit([kit.header(w.word(Word.ERRORS_TITLE))], items, tail)
    return Message(text=f"{w.word(Word.ERRORS_TITLE)}: {w.number(shown)}", blocks=blocks)


def _more_blocks(cursor: int | None, query: str, w: Wording) -> list[Block]:
    """ "More below" and the "More" button carrying the cursor; nothing on the last page."""
    if cursor is None:
        return []
    return [
        kit.context(w.word(Word.MORE_BELOW)),
        kit.actions(
            [kit.button(w.word(Word.BUTTON_MORE), ActionId.LIST_MORE, more_value(cursor, query))],
            block_id=BlockId.ACTIONS,
        ),
    ]


def _fields(error: SyncError, w: Wording) -> list[str]:
    labels = w.details_fields()
    pairs = [
        (labels["category"], f"{emoji(error)} {w.category(error.category)}"),
        (labels["status"], w.status(error.status)),
        (labels["mapping"], mrkdwn.escape(error.mapping)),
        (labels["direction"], w.direction(error.direction)),
        (labels["occurrences"], w.number(error.occurrences)),
        (labels["first_seen"], w.date(error.created_at)),
        (labels["last_seen"], w.date(error.last_seen_at)),
    ]
    if error.code:
        pairs.append((labels["code"], f"`{mrkdwn.escape(error.code)}`"))
    if error.job_id:
        pairs.append((labels["job"], f"`{mrkdwn.escape(error.job_id)}`"))
    return [f"*{label}*\n{value}" for label, value in pairs][:10]


def _record_section(label: str, link: str, url: str | None, system: str, w: Wording) -> SectionBlock:
    # Link buttons still send an action to the app; the handler only acks it.
    accessory = (
        kit.button(w.button_open(system), ActionId.OPEN_RECORD, url=mrkdwn.safe_url(url)) if url else None
    )
    return kit.section(f"*{label}*: {link}", accessory=accessory)


def build_error_details(error: SyncError, *, locale: str = "en") -> Message:
    """One error in full: both records with open buttons, the facts, the full text, and its actions."""
    w = Wording(locale)
    labels = w.details_fields()
    blocks: list[Block] = [
        kit.header(f"{w.error_ref(error.id)} — {title(error, w)}"),
        _record_section(labels["source"], source_link(error, w), error.source_url, error.source_system, w),
        _record_section(
            labels["destination"],
            destination_link(error, w),
            error.destination_url,
            error.destination_system,
            w,
        ),
        SectionBlock(fields=[kit.markdown(text) for text in _fields(error, w)]),
    ]
    blocks += [block for block in error_body(error, w)[1:] if block.type != "context"]
    detail = error.detail.strip()
    text = f"```{mrkdwn.escape(mrkdwn.cut(detail, DETAIL_CHARS))}```" if detail else w.word(Word.NO_FULL_TEXT)
    blocks.append(kit.section(f"*{labels['full_text']}*\n{text}"))
    # The hint and the message are shown above.
    facts = {k: v for k, v in (error.facts or {}).items() if k not in (ADVICE_FACT, SAID_FACT)}
    if facts:
        lines = [
            f"• {mrkdwn.escape(str(key))}: {mrkdwn.escape(mrkdwn.cut(str(value), 200))}"
            for key, value in list(facts.items())[:MAX_FACTS]
        ]
        blocks.append(kit.section(f"*{labels['facts']}*\n" + "\n".join(lines)))
    state = state_line(error, w)
    if state is not None:
        blocks.append(kit.section(state))
    elif error.status == ErrorStatus.OPEN:
        buttons = [b for b in category_buttons(error, w) if b.action_id != ActionId.SHOW_DETAILS]
        blocks.append(kit.actions(buttons, block_id=BlockId.ACTIONS))
    return Message(text=f"{w.error_ref(error.id)} — {mrkdwn.escape(title(error, w))}", blocks=blocks)
