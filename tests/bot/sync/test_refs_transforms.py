"""Record references and the pure value transforms."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sync import transforms
from bot.sync.refs import BadReference, parse_ref
from storage.models import System

GUID = "6f1c0c7e-1a2b-4c3d-8e9f-0123456789ab"


def test_bc_table_and_number() -> None:
    ref = parse_ref("customer:10000")
    assert (ref.system, ref.table, ref.key, ref.id) == (System.BUSINESS_CENTRAL, "customer", "10000", None)
    assert parse_ref("customers:10000").table == "customer"


def test_dataverse_table_and_guid() -> None:
    ref = parse_ref(f"account:{GUID.upper()}")
    assert (ref.system, ref.table, ref.id) == (System.DATAVERSE, "account", GUID)
    assert parse_ref(f"contact:{GUID}").system is System.DATAVERSE
    assert parse_ref("contact:CT000010").system is System.BUSINESS_CENTRAL


def test_bare_guid() -> None:
    ref = parse_ref("{" + GUID + "}")
    assert ref.bare and ref.id == GUID


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("10000", "neither TABLE:VALUE nor a GUID"),
        ("customer:", "no record after the colon"),
        ("account:10000", "needs a GUID"),
        ("vendor:10000", "Unknown table 'vendor'"),
        ("customer:a;b", "not a valid number"),
    ],
)
def test_bad_references_say_why_and_show_the_forms(text: str, reason: str) -> None:
    with pytest.raises(BadReference) as caught:
        parse_ref(text)
    assert reason in str(caught.value) and "customer:10000" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_name_split_and_join() -> None:
    assert transforms.split_name(("Anna Maria  Smith",)) == ("Anna Maria", "Smith")
    assert transforms.split_name(("Madonna",)) == ("", "Madonna")
    assert transforms.split_name((None,)) == ("", "")
    assert transforms.join_name(("Anna", None)) == ("Anna",)


@given(st.lists(st.text(alphabet="abcXYZ", min_size=1, max_size=6), min_size=1, max_size=4))
def test_name_round_trip(words: list[str]) -> None:
    name = " ".join(words)
    assert transforms.join_name(transforms.split_name((name,))) == (name,)


def test_blocked_and_statecode() -> None:
    assert transforms.blocked_to_statecode(("All",)) == (1,)
    assert transforms.blocked_to_statecode(("Ship",)) == (0,)
    assert transforms.statecode_to_blocked((1,)) == ("All",)
    assert transforms.statecode_to_blocked((0,)) == (" ",)


def test_exchange_rate_and_comparison() -> None:
    assert transforms.exchange_rate(100, 80) == Decimal("1.25")
    assert transforms.exchange_rate(1, 0) is None
    assert transforms.exchange_rate("x", 1) is None
    assert transforms.same_values((None, 5), ("", 5.0))
    assert not transforms.same_values(("a",), ("b",))
