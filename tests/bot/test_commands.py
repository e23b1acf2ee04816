"""The /sync-errors grammar: examples, refusals, durations, and property tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import (
    DEFAULT_LIMIT,
    SUBCOMMANDS,
    USAGE,
    Audit,
    Command,
    Couple,
    CoupleMatch,
    DeleteRecord,
    Doctor,
    Help,
    ListErrors,
    Pause,
    Purge,
    Restore,
    Resume,
    Resync,
    RunNow,
    Schedule,
    ScheduleEvery,
    ShowError,
    Snooze,
    Status,
    Summary,
    Sync,
    Uncouple,
    UsageError,
    format_command,
    format_duration,
    parse,
    parse_duration,
    supports_json,
    usage_line,
)

EXAMPLES: list[tuple[str, Command]] = [
    ("", Summary()),
    ("   ", Summary()),
    ("help", Help()),
    ("HELP purge", Help(topic="purge")),
    ("help banana", Help(unknown_word="banana")),
    ("banana split", Help(unknown_word="banana")),
    ("purge --help", Help(topic="purge")),
    ("list", ListErrors()),
    (
        "list --mapping customer --category Permissions --status all --limit 5 --json",
        ListErrors(mapping="CUSTOMER", category="permissions", status="all", limit=5, as_json=True),
    ),
    ("list --mapping=CONTACT --status=resolved", ListErrors(mapping="CONTACT", status="resolved")),
    ("show 17", ShowError(error_id=17)),
    ("show #17 --json", ShowError(error_id=17, as_json=True)),
    ("resync 1 2 3", Resync(error_ids=(1, 2, 3))),
    ("resync --failed", Resync(failed=True)),
    ("resync --failed --mapping CUSTOMER", Resync(failed=True, mapping="CUSTOMER")),
    ("couple customer:10000 account:6f1c", Couple(bc_ref="customer:10000", dataverse_ref="account:6f1c")),
    (
        "couple customer:10000 6f1c2b3a-1111-2222-3333-444455556666 --sync dataverse",
        Couple("customer:10000", "6f1c2b3a-1111-2222-3333-444455556666", "dataverse"),
    ),
    ("couple --match CUSTOMER", CoupleMatch(mapping="CUSTOMER")),
    ("uncouple customer:10000", Uncouple(ref="customer:10000")),
    ("purge --older-than 7d", Purge(older_than=timedelta(days=7))),
    ("purge --older-than 12h --yes", Purge(older_than=timedelta(hours=12), yes=True)),
    ("purge --all --yes", Purge(purge_all=True, yes=True)),
    ("status", Status()),
    ("status --json", Status(as_json=True)),
    ("sync", Sync()),
    ("sync customer contact --full", Sync(mappings=("CUSTOMER", "CONTACT"), full=True)),
    ("snooze 17 4h", Snooze(error_id=17, duration=timedelta(hours=4))),
    ("restore 17", Restore(error_id=17)),
    ("delete-record 17", DeleteRecord(error_id=17)),
    ("schedule", Schedule()),
    ("schedule --json", Schedule(as_json=True)),
    ("schedule CUSTOMER every 30m", ScheduleEvery(mapping="CUSTOMER", every=timedelta(minutes=30))),
    ("pause CUSTOMER", Pause(mapping="CUSTOMER")),
    ("resume CUSTOMER", Resume(mapping="CUSTOMER")),
    ("run CUSTOMER", RunNow(mapping="CUSTOMER")),
    ("audit", Audit()),
    ("audit 17 --json", Audit(error_id=17, as_json=True)),
    ("doctor --json", Doctor(as_json=True)),
    ("snooze 17 “4h”", Snooze(error_id=17, duration=timedelta(hours=4))),  # Slack's curly quotes
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES)
def test_examples(text: str, expected: Command) -> None:
    assert parse(text) == expected


REFUSALS = [
    ("list --status closed", "is not a status", "list"),
    ("list --limit 0", "--limit must be", "list"),
    ("list --limit", "--limit needs a value", "list"),
    ("list --colour red", "list has no option --colour", "list"),
    ("list --json --json", "given twice", "list"),
    ("list extra", "unexpected word", "list"),
    ("show", "show needs an error id", "show"),
    ("show abc", "is not an error id", "show"),
    ("show 0", "is not an error id", "show"),
    ("resync", "give error ids or --failed", "resync"),
    ("resync 1 --failed", "not both", "resync"),
    ("resync 1 --mapping X", "--mapping goes with --failed", "resync"),
    ("couple customer:1", "two record references", "couple"),
    ("couple a b", "is not a record reference", "couple"),
    ("couple customer:1 account:2 --sync both", "is not a --sync choice", "couple"),
    ("couple --match CUSTOMER --sync bc", "--sync goes with two references", "couple"),
    ("purge", "--older-than DURATION or --all", "purge"),
    ("purge --all --older-than 7d", "not both", "purge"),
    ("purge --older-than banana", "is not a duration", "purge"),
    ("purge --all=yes", "takes no value", "purge"),
    ("snooze 17", "an error id and a duration", "snooze"),
    ("snooze 17 -3d", "is not a duration", "snooze"),
    ("schedule CUSTOMER each 5m", "schedule MAPPING every DURATION", "schedule"),
    ("schedule CUSTOMER every 5m --json", "--json goes with the list", "schedule"),
    ("pause", "a mapping name", "pause"),
    ("pause cust/omer", "is not a mapping name", "pause"),
    ("sync --full --json", "sync has no option --json", "sync"),
]


@pytest.mark.parametrize(("text", "problem", "sub"), REFUSALS)
def test_refusals_name_the_problem_and_show_the_usage(text: str, problem: str, sub: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert problem in caught.value.problem
    assert caught.value.usage == usage_line(sub)
    assert str(caught.value) == f"{caught.value.problem}\nUsage: /sync-errors {USAGE[sub]}"


def test_terminal_usage_lines_use_the_terminal_name() -> None:
    with pytest.raises(UsageError) as caught:
        parse("show", prog="sync-errors")
    assert caught.value.usage == "sync-errors show ID [--json]"


def test_unclosed_quote_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="cannot read the words"):
        parse('uncouple "customer:1')


def test_usage_covers_every_subcommand_and_matches_the_contract_words() -> None:
    assert set(SUBCOMMANDS) == {
        "help", "list", "skipped", "show", "resync", "couple", "uncouple", "purge", "restore",
        "delete-record", "snooze", "status", "sync", "schedule", "pause", "resume", "run", "audit", "doctor",
    }  # fmt: skip
    assert (
        USAGE["list"]
        == "list [--mapping M] [--category C] [--status open|resolved|snoozed|all] [--limit N] [--json]"
    )
    assert USAGE["purge"] == "purge --older-than DURATION | --all [--yes]"
    assert USAGE["resync"] == "resync ID ... | --failed [--mapping M]"


def test_json_is_accepted_where_the_contract_has_it() -> None:
    for text in ("list", "show 1", "status", "schedule", "audit", "doctor"):
        command = parse(f"{text} --json")
        assert supports_json(command) and format_command(command).endswith("--json")
    assert not supports_json(parse("resync 1"))


# ---- durations -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("1w", timedelta(weeks=1)),
        (" 7D ", timedelta(days=7)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["banana", "-3d", "0", "0d", "7", "d", "7 d", "1.5h", "7days", "", "99999999999w"]
)
def test_bad_durations_show_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    message = str(caught.value)
    assert "30m, 12h, 7d or 2w" in message or "too long" in message


@given(st.integers(min_value=1, max_value=5000), st.sampled_from(["m", "h", "d", "w"]))
def test_duration_round_trip(amount: int, unit: str) -> None:
    seconds = {"m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    if amount * seconds > 3650 * 86400:
        with pytest.raises(ValueError, match="too long"):
            parse_duration(f"{amount}{unit}")
        return
    duration = parse_duration(f"{amount}{unit}")
    assert duration == timedelta(seconds=amount * seconds)
    assert parse_duration(format_duration(duration)) == duration


# ---- properties -------------------------------------------------------------------------------------------


@given(st.text(max_size=200))
def test_parse_raises_nothing_but_usage_error(text: str) -> None:
    try:
        parse(text)
    except UsageError:
        pass


WORDS = st.sampled_from(
    [*SUBCOMMANDS, "--json", "--all", "--older-than", "7d", "-3d", "17", "#4", "CUSTOMER", "every"]
)


@given(st.lists(st.one_of(WORDS, st.text(max_size=10)), max_size=8))
def test_parse_of_word_soup_raises_nothing_but_usage_error(words: list[str]) -> None:
    try:
        parse(" ".join(words))
    except UsageError:
        pass


ids = st.integers(min_value=1, max_value=10**12)
mappings = st.from_regex(r"[A-Z][A-Z0-9_-]{0,19}", fullmatch=True)
categories = st.from_regex(r"[a-z][a-z-]{0,20}", fullmatch=True)
refs = st.one_of(
    st.from_regex(r"[a-z_][a-z0-9_]{0,10}:[A-Za-z0-9{}.-][A-Za-z0-9'\"{}.-]{0,20}", fullmatch=True),
    st.uuids().map(str),
)
durations = st.builds(
    lambda n, unit: n * unit,
    st.integers(min_value=1, max_value=500),
    st.sampled_from([timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(weeks=1)]),
)
flags = st.booleans()

commands: st.SearchStrategy[Command] = st.one_of(
    st.just(Summary()),
    st.builds(Help, topic=st.sampled_from(SUBCOMMANDS)),
    st.builds(Help, unknown_word=st.sampled_from(["banana", "lst", "purgeall"])),
    st.builds(
        ListErrors,
        mapping=st.none() | mappings,
        category=st.none() | categories,
        status=st.sampled_from(["open", "resolved", "snoozed", "all"]),
        limit=st.integers(min_value=1, max_value=1000),
        as_json=flags,
    ),
    st.builds(ShowError, error_id=ids, as_json=flags),
    st.builds(Resync, error_ids=st.lists(ids, min_size=1, max_size=5).map(tuple)),
    st.builds(Resync, failed=st.just(True), mapping=st.none() | mappings),
    st.builds(Couple, bc_ref=refs, dataverse_ref=refs, sync=st.sampled_from(["none", "bc", "dataverse"])),
    st.builds(CoupleMatch, mapping=mappings),
    st.builds(Uncouple, ref=refs),
    st.builds(Purge, older_than=durations, yes=flags),
    st.builds(Purge, older_than=st.none(), purge_all=st.just(True), yes=flags),
    st.builds(Status, as_json=flags),
    st.builds(Sync, mappings=st.lists(mappings, max_size=4).map(tuple), full=flags),
    st.builds(Snooze, error_id=ids, duration=durations),
    st.builds(Restore, error_id=ids),
    st.builds(DeleteRecord, error_id=ids),
    st.builds(Schedule, as_json=flags),
    st.builds(ScheduleEvery, mapping=mappings, every=durations),
    st.builds(Pause, mapping=mappings),
    st.builds(Resume, mapping=mappings),
    st.builds(RunNow, mapping=mappings),
    st.builds(Audit, error_id=st.none() | ids, as_json=flags),
    st.builds(Doctor, as_json=flags),
)


@given(commands)
def test_round_trip(command: Command) -> None:
    assert parse(format_command(command)) == command


def test_defaults_are_written_out_only_when_needed() -> None:
    assert format_command(ListErrors(limit=DEFAULT_LIMIT)) == "list"
    assert format_command(Purge(older_than=timedelta(days=14))) == "purge --older-than 2w"
    assert format_command(Uncouple(ref="customer:O'Neil")) == "uncouple 'customer:O'\"'\"'Neil'"
