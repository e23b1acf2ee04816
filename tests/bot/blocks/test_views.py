"""Modals and App Home."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.blocks import build_couple_modal, build_home, build_purge_modal, build_snooze_modal
from bot.ids import ActionId, BlockId, CallbackId
from storage.models import System
from tests.bot.blocks.checks import action_ids, all_text, buttons, valid_view
from tests.bot.blocks.factory import T0, error, job


def test_purge_modal_says_how_many() -> None:
    payload = valid_view(build_purge_modal(1234, 7))
    assert payload["callback_id"] == CallbackId.PURGE_CONFIRM
    assert json.loads(payload["private_metadata"]) == {"older_than_days": 7}
    assert "This deletes *1,234* error entries not seen for 7 days." in all_text(payload)
    assert payload["submit"]["text"] == "Delete"
    everything = valid_view(build_purge_modal(5, None))
    assert "all *5* error entries, open ones included" in all_text(everything)
    assert json.loads(everything["private_metadata"]) == {"older_than_days": None}


def test_purge_modal_with_nothing_to_delete_has_no_submit() -> None:
    payload = valid_view(build_purge_modal(0, 7))
    assert "submit" not in payload and "nothing to delete" in all_text(payload)


def test_snooze_modal_offers_four_durations() -> None:
    payload = valid_view(build_snooze_modal(error()))
    assert payload["callback_id"] == CallbackId.SNOOZE and payload["private_metadata"] == "17"
    block = next(b for b in payload["blocks"] if b.get("block_id") == BlockId.SNOOZE_DURATION)
    assert block["element"]["action_id"] == ActionId.SNOOZE_DURATION
    assert [o["value"] for o in block["element"]["options"]] == ["1h", "4h", "24h", "7d"]


def test_couple_modal_asks_for_the_other_side() -> None:
    payload = valid_view(build_couple_modal(error()))
    assert payload["callback_id"] == CallbackId.COUPLE and payload["private_metadata"] == "17"
    assert "with an existing record in Dataverse" in all_text(payload)
    block = next(b for b in payload["blocks"] if b.get("block_id") == BlockId.COUPLE_REFERENCE)
    assert block["element"]["action_id"] == ActionId.COUPLE_REFERENCE
    other = valid_view(build_couple_modal(error(source_system=System.DATAVERSE, source_table="accounts")))
    assert "existing record in Business Central" in all_text(other)


def test_home_shows_counts_jobs_next_runs_and_quick_actions() -> None:
    counts = [(f"MAP{n}", "permissions", n + 1) for n in range(60)]
    jobs = [job(mapping=f"MAP{n}") for n in range(60)]
    runs = [(f"MAP{n}", T0 + timedelta(minutes=n), n % 5 == 0) for n in range(60)] + [("X", None, False)]
    payload = valid_view(build_home(counts, jobs, runs, now=T0), max_blocks=100)
    assert payload["type"] == "home"
    text = all_text(payload)
    assert "*1,830 open errors*" in text and "*MAP0*: paused" in text and "*X*: not scheduled" in text
    assert action_ids(payload) == ["home_refresh", "purge_older_than", "purge_all"]
    assert all("confirm" in b for b in buttons(payload)[1:])


def test_empty_home() -> None:
    text = all_text(valid_view(build_home([], [], [])))
    assert "No open errors" in text and "Nothing is scheduled." in text
