"""The scheduled syncs: one line per mapping, and the answers to interval, pause and resume."""

from __future__ import annotations

from datetime import timedelta

from bot.blocks import build_interval_set, build_paused, build_resumed, build_schedule
from bot.operations.schedule import ScheduleEntry
from tests.bot.blocks.checks import all_text, valid_message
from tests.bot.blocks.factory import T0

NEXT = f"<!date^{int((T0 + timedelta(minutes=30)).timestamp())}^"


def entry(**overrides: object) -> ScheduleEntry:
    """CUSTOMER every 30 minutes, last run ok, next in 30 minutes."""
    values: dict[str, object] = {
        "id": "sync:CUSTOMER",
        "mapping": "CUSTOMER",
        "interval_minutes": 30,
        "paused": False,
        "enabled": True,
        "last_result": "ok",
        "last_run_at": T0,
        "next_run_at": T0 + timedelta(minutes=30),
    }
    values.update(overrides)
    return ScheduleEntry(**values)  # type: ignore[arg-type]


def test_schedule_lines() -> None:
    entries = [
        entry(),
        entry(mapping="CONTACT", interval_minutes=120, paused=True, last_result="failed: 429 <Too many>"),
        entry(mapping="ITEM", interval_minutes=1440, enabled=False, last_result=None, next_run_at=None),
        entry(mapping="CURRENCY", interval_minutes=60 * 24 * 7, last_result="running", next_run_at=None),
        entry(mapping="PRODUCT", last_result="skipped"),
    ]
    payload = valid_message(build_schedule(entries))
    assert payload["text"] == "Scheduled syncs"
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Scheduled syncs", "emoji": True},
    }
    lines = all_text(payload).splitlines()[1:]
    assert lines[0].startswith(f"*CUSTOMER* · every 30m · last run ok · next {NEXT}")
    assert lines[1].startswith(
        "*CONTACT* · every 2h · ⏸ paused · last run failed: 429 &lt;Too many&gt; · next"
    )
    assert lines[2] == "*ITEM* · every 1d · disabled"
    assert lines[3] == "*CURRENCY* · every 1w · running now"
    assert lines[4].startswith("*PRODUCT* · every 30m · last: skipped · next")


def test_nothing_scheduled() -> None:
    assert all_text(valid_message(build_schedule([]))).endswith("Nothing is scheduled.")


def test_many_mappings_stay_inside_slacks_limits() -> None:
    entries = [entry(mapping=f"MAPPING{n}", last_result="failed: " + "x" * 500) for n in range(200)]
    payload = valid_message(build_schedule(entries))
    assert "more" in all_text(payload).splitlines()[-1]


def test_changes() -> None:
    interval = valid_message(build_interval_set("CUSTOMER", timedelta(hours=1)))
    line = "✅ *CUSTOMER* now syncs every 1h."
    assert interval == {
        "text": line,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}}],
    }
    paused = all_text(valid_message(build_paused("A<B")))
    assert paused == "⏸ *A&lt;B* is paused: it does not sync on its schedule until resumed."
    assert all_text(valid_message(build_resumed("CUSTOMER"))) == "▶️ *CUSTOMER* syncs on its schedule again."


def test_schedule_in_czech_and_dutch() -> None:
    cs = all_text(valid_message(build_schedule([entry(paused=True)], locale="cs")))
    assert "*CUSTOMER* · interval 30m · ⏸ pozastaveno · poslední běh v pořádku · další <!date^" in cs
    nl = all_text(valid_message(build_interval_set("CUSTOMER", timedelta(minutes=30), locale="nl")))
    assert nl == "✅ *CUSTOMER* synchroniseert nu elke 30m."
    assert all_text(valid_message(build_resumed("CUSTOMER", locale="cs"))) == (
        "▶️ Mapování *CUSTOMER* se znovu synchronizuje podle plánu."
    )
