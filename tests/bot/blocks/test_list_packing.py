"""The error list measures each block once, and still cuts exactly where measuring every try did."""

from __future__ import annotations

import json
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.blocks import kit
from bot.blocks.listing import MAX_LIST_ITEMS, build_error_list, list_item, more_value
from bot.blocks.message import MAX_MESSAGE_BLOCKS, MAX_MESSAGE_CHARS, Message, block_dict
from bot.blocks.wording import Word, Wording
from bot.ids import ActionId, BlockId
from storage.models import SyncError
from tests.bot.blocks.checks import valid_message
from tests.bot.blocks.factory import error


def _old_size(blocks: Sequence[Block]) -> int:
    return sum(len(json.dumps(block_dict(block), ensure_ascii=False)) for block in blocks)


def _old_fits(blocks: Sequence[Block]) -> bool:
    return len(blocks) <= MAX_MESSAGE_BLOCKS and _old_size(blocks) <= MAX_MESSAGE_CHARS


def _old_build_error_list(
    errors: Sequence[SyncError], *, next_before_id: int | None, locale: str = "en", query: str = "list"
) -> Message:
    """build_error_list as it was: every block rebuilt and measured again for each count tried."""
    w = Wording(locale)
    if not errors:
        return Message(text=w.word(Word.NO_ERRORS_MATCH), blocks=[kit.section(w.word(Word.NO_ERRORS_MATCH))])
    shown = min(len(errors), MAX_LIST_ITEMS)
    while True:
        cursor = next_before_id if shown == len(errors) else errors[shown - 1].id
        blocks: list[Block] = [kit.header(w.word(Word.ERRORS_TITLE))]
        blocks += [list_item(error, w) for error in errors[:shown]]
        if cursor is not None:
            blocks.append(kit.context(w.word(Word.MORE_BELOW)))
            blocks.append(
                kit.actions(
                    [kit.button(w.word(Word.BUTTON_MORE), ActionId.LIST_MORE, more_value(cursor, query))],
                    block_id=BlockId.ACTIONS,
                )
            )
        if _old_fits(blocks) or shown == 1:
            break
        shown -= 1
    return Message(text=f"{w.word(Word.ERRORS_TITLE)}: {w.number(shown)}", blocks=blocks)


def _sent(message: Message) -> str:
    """The bytes the reply carries (slack_sdk's json.dumps of the body)."""
    return json.dumps({"text": message.text, "blocks": [block.to_dict() for block in message.blocks]})


def _errors(lengths: Sequence[tuple[int, int, int]]) -> list[SyncError]:
    return [
        error(
            id=1000 - n,
            source_name="Ň" * name if name else None,
            message="“y” " * (text // 4),
            source_url=f"https://businesscentral.dynamics.com/?page=21&q={'x' * url}" if url else None,
            occurrences=n * 997,
        )
        for n, (name, text, url) in enumerate(lengths, start=1)
    ]


@settings(max_examples=150, deadline=None)
@given(
    lengths=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=250),
            st.integers(min_value=0, max_value=250),
            st.sampled_from([0, 50, 400, 1900]),
        ),
        min_size=1,
        max_size=MAX_LIST_ITEMS + 5,
    ),
    next_before_id=st.one_of(st.none(), st.integers(min_value=1, max_value=10**9)),
    locale=st.sampled_from(["en", "cs", "nl"]),
    query=st.sampled_from(["list", "list --mapping CUSTOMER --status all", "list " + "w" * 300]),
)
def test_the_list_is_the_same_as_when_every_try_was_measured(
    lengths: list[tuple[int, int, int]], next_before_id: int | None, locale: str, query: str
) -> None:
    errors = _errors(lengths)
    new = build_error_list(errors, next_before_id=next_before_id, locale=locale, query=query)
    old = _old_build_error_list(errors, next_before_id=next_before_id, locale=locale, query=query)
    assert _sent(new) == _sent(old)


def test_a_big_list_is_cut_where_it_was_and_stays_inside_the_limits() -> None:
    errors = _errors([(240, 250, 1900)] * 30)
    new = build_error_list(errors, next_before_id=1, query="list --status all")
    old = _old_build_error_list(errors, next_before_id=1, query="list --status all")
    assert _sent(new) == _sent(old)
    assert 1 < len(new.blocks) - 3 < MAX_LIST_ITEMS  # cut, not to one
    valid_message(new)


@given(texts=st.lists(st.text(max_size=300), min_size=0, max_size=8))
def test_size_is_the_sum_of_each_block_measured_apart(texts: list[str]) -> None:
    blocks: list[Block] = [kit.section(text or "-") for text in texts]
    assert kit.size(blocks) == _old_size(blocks)
