"""OData helpers: timestamps round-trip, literals quote safely, annotations stay out of fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from bot.connectors.odata import EPOCH, format_timestamp, literal, parse_timestamp, row_fields, select_with

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(moments)
def test_timestamp_round_trip_never_moves_forward(moment: datetime) -> None:
    parsed = parse_timestamp(format_timestamp(moment))
    assert parsed <= moment
    assert moment - parsed < timedelta(milliseconds=1)


def test_timestamp_formats() -> None:
    assert format_timestamp(datetime(2026, 1, 1, 10, 0)) == "2026-01-01T10:00:00Z"
    plus_two = timezone(timedelta(hours=2))
    assert (
        format_timestamp(datetime(2026, 1, 1, 10, 0, 0, 999999, tzinfo=plus_two))
        == "2026-01-01T08:00:00.999Z"
    )


def test_parse_api_timestamps() -> None:
    assert parse_timestamp("2026-01-01T10:00:00.1234567Z") == datetime(
        2026, 1, 1, 10, 0, 0, 123456, tzinfo=UTC
    )
    assert parse_timestamp("2026-01-01T10:00:00+01:00") == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert parse_timestamp(None) == EPOCH
    assert parse_timestamp("garbage") == EPOCH


@given(st.text())
def test_string_literals_double_quotes(value: str) -> None:
    quoted = literal(value)
    assert quoted.startswith("'") and quoted.endswith("'")
    assert quoted[1:-1].replace("''", "").count("'") == 0


def test_other_literals() -> None:
    assert [literal(None), literal(True), literal(5), literal(2.5)] == ["null", "true", "5", "2.5"]


def test_select_adds_required_columns_once() -> None:
    assert select_with(["name", "id"], "id", "modifiedon") == "id,modifiedon,name"
    assert select_with(None, "id") is None


def test_row_fields_drop_annotations() -> None:
    row = {"@odata.etag": "x", "name": "A", "name@OData.Community.Display.V1.FormattedValue": "A"}
    assert row_fields(row) == {"name": "A"}


def test_repeated_short_values_are_one_object_and_a_column_of_unique_values_stops_taking_more() -> None:
    from bot.connectors.odata import SharedValues

    shared = SharedValues(per_column=3)
    first = shared.share("country", "".join(["C", "Z"]))
    assert shared.share("country", "".join(["C", "Z"])) is first
    for number in range(10):
        shared.share("email", f"person{number}@example.com")
    late = "".join(["person9", "@example.com"])
    assert shared.share("email", late) is late  # not kept: the column was full
    assert shared.share("email", "".join(["person0", "@example.com"])) == "person0@example.com"
