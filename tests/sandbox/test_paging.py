"""Keyset paging of the sandbox: every row once, in `$orderby` order (each column in its own direction)."""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sandbox.odata_query import _cmp, _sort_key, paginate
from bot.sandbox.schema import Entity, Field

ENTITY = Entity(
    entity_set="things",
    type_name="thing",
    key="id",
    fields=(Field("id"), Field("city"), Field("amount", kind="decimal"), Field("blocked", kind="boolean")),
    default_order=("id",),
)

_rows = st.lists(
    st.fixed_dictionaries(
        {
            "city": st.one_of(st.none(), st.sampled_from(["Brno", "brno", "Praha", "", "Zlín"])),
            "amount": st.one_of(st.none(), st.integers(-3, 3)),
            "blocked": st.booleans(),
        }
    ),
    max_size=40,
)
_order = st.lists(
    st.tuples(st.sampled_from(["city", "amount", "blocked"]), st.booleans()),
    max_size=3,
    unique_by=lambda o: o[0],
)


def _expected(rows: list[dict[str, Any]], order: list[tuple[str, bool]]) -> list[str]:
    """The order a comparison of every pair gives (what paging must follow)."""
    descending = [desc for _, desc in order] + [False]
    keyed = [(_sort_key(row, ENTITY, order), row) for row in rows]
    keyed.sort(key=cmp_to_key(lambda a, b: _cmp(a[0], b[0], descending)))
    return [row["id"] for _, row in keyed]


@settings(max_examples=200, deadline=None)
@given(rows=_rows, order=_order, page_size=st.integers(1, 7))
def test_paging_delivers_every_row_once_in_order(
    rows: list[dict[str, Any]], order: list[tuple[str, bool]], page_size: int
) -> None:
    table = [{**row, "id": f"{number:03d}"} for number, row in enumerate(rows)]
    seen: list[str] = []
    token: str | None = None
    for _ in range(len(table) + 2):
        page = paginate(table, ENTITY, order, page_size, token, None)
        seen += [row["id"] for row in page.rows]
        token = page.next_token
        if token is None:
            break
    assert seen == _expected(table, order)
