"""The one grammar of `/sync-errors`, shared by Slack and the terminal: text -> typed command.

Durations are a whole number and one unit: `30m`, `12h`, `7d` or `2w` (weeks are accepted because
"every 2w" reads naturally; months are not, they have no fixed length). Record references stay strings
(`customer:10000`, `account:<guid>` or a bare GUID) and are resolved by whoever runs the command.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Literal, TypeAlias

from bot.ids import COMMAND

StatusFilter: TypeAlias = Literal["open", "resolved", "snoozed", "all"]
SyncSide: TypeAlias = Literal["none", "bc", "dataverse"]

STATUSES: tuple[StatusFilter, ...] = ("open", "resolved", "snoozed", "all")
SYNC_SIDES: tuple[SyncSide, ...] = ("none", "bc", "dataverse")
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
MAX_DURATION = timedelta(days=3650)
MAX_ERROR_ID = 2**63 - 1

USAGE: dict[str, str] = {
    "help": "help [SUBCOMMAND]",
    "list": "list [--mapping M] [--category C] [--status open|resolved|snoozed|all] [--limit N] [--json]",
    "skipped": "skipped [--mapping M] [--json]",
    "show": "show ID [--json]",
    "resync": "resync ID ... | --failed [--mapping M]",
    "couple": (
        "couple BC_REF DV_REF [--sync none|bc|dataverse] / couple REF --create / couple --match MAPPING"
    ),
    "uncouple": "uncouple REF",
    "purge": "purge --older-than DURATION | --all [--yes]",
    "restore": "restore ID",
    "delete-record": "delete-record ID",
    "snooze": "snooze ID DURATION",
    "status": "status [--json]",
    "sync": "sync [MAPPING ...] [--full]",
    "schedule": "schedule [--json] · schedule MAPPING every DURATION",
    "pause": "pause MAPPING",
    "resume": "resume MAPPING",
    "run": "run MAPPING",
    "audit": "audit [ID] [--json]",
    "doctor": "doctor [--json]",
}
SUBCOMMANDS: tuple[str, ...] = tuple(USAGE)


def usage_line(subcommand: str, prog: str = COMMAND) -> str:
    """The usage line of a subcommand with the program name (`/sync-errors` or `sync-errors`) in front."""
    return f"{prog} {USAGE[subcommand]}"


_DURATION = re.compile(r"^(\d{1,12})([mhdw])$")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
_MAPPING = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,19}$")
_CATEGORY = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
_REFERENCE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,59}:[^\s:][^\s]{0,139}$")
_ERROR_ID = re.compile(r"^#?(\d{1,19})$")
_NEGATIVE = re.compile(r"^-\d")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "\u00a0": " "})

DURATION_FORMS = "a whole number and a unit: 30m, 12h, 7d or 2w"


class UsageError(ValueError):
    """Wrong words: `problem` says what, `usage` is the subcommand's usage line."""

    def __init__(self, problem: str, usage: str) -> None:
        super().__init__(problem, usage)
        self.problem = problem
        self.usage = usage

    def __str__(self) -> str:
        return f"{self.problem}\nUsage: {self.usage}"


# ---- the commands ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """No words: open errors, last jobs and the help."""


@dataclass(frozen=True)
class Help:
    """The help, for one subcommand or all; `unknown_word` when the first word was not understood."""

    topic: str | None = None
    unknown_word: str | None = None


@dataclass(frozen=True)
class ListErrors:
    """Errors, newest first."""

    mapping: str | None = None
    category: str | None = None
    status: StatusFilter = "open"
    limit: int = DEFAULT_LIMIT
    as_json: bool = False


@dataclass(frozen=True)
class ListSkipped:
    """The Skipped couplings (Business Central's Coupled Data Synchronization Errors)."""

    mapping: str | None = None
    as_json: bool = False


@dataclass(frozen=True)
class ShowError:
    """One error with its full text."""

    error_id: int
    as_json: bool = False


@dataclass(frozen=True)
class Resync:
    """Re-synchronize the records behind errors, or every failed one (of a mapping)."""

    error_ids: tuple[int, ...] = ()
    failed: bool = False
    mapping: str | None = None


@dataclass(frozen=True)
class Couple:
    """Couple two records by reference, then optionally copy one side's values."""

    bc_ref: str
    dataverse_ref: str
    sync: SyncSide = "none"


@dataclass(frozen=True)
class CoupleCreate:
    """Create the partner of one uncoupled record on the other side and couple it (Create New)."""

    ref: str


@dataclass(frozen=True)
class CoupleMatch:
    """Couple a mapping's records that match."""

    mapping: str


@dataclass(frozen=True)
class Uncouple:
    """Remove a coupling."""

    ref: str


@dataclass(frozen=True)
class Purge:
    """Delete error entries older than a duration, or all of them; `yes` skips the question."""

    older_than: timedelta | None = None
    purge_all: bool = False
    yes: bool = False


@dataclass(frozen=True)
class Status:
    """The latest jobs per mapping."""

    as_json: bool = False


@dataclass(frozen=True)
class Sync:
    """Run synchronization now (all enabled mappings when none is named)."""

    mappings: tuple[str, ...] = ()
    full: bool = False


@dataclass(frozen=True)
class Snooze:
    """Hide an error's notifications for a while."""

    error_id: int
    duration: timedelta


@dataclass(frozen=True)
class Restore:
    """Recreate the deleted side of a coupled record."""

    error_id: int


@dataclass(frozen=True)
class DeleteRecord:
    """Delete the surviving side of a coupled record (and the coupling)."""

    error_id: int


@dataclass(frozen=True)
class Schedule:
    """The scheduled jobs."""

    as_json: bool = False


@dataclass(frozen=True)
class ScheduleEvery:
    """Change how often a mapping syncs."""

    mapping: str
    every: timedelta


@dataclass(frozen=True)
class Pause:
    """Pause a mapping's schedule."""

    mapping: str


@dataclass(frozen=True)
class Resume:
    """Resume a mapping's schedule."""

    mapping: str


@dataclass(frozen=True)
class RunNow:
    """Run a mapping's scheduled job now."""

    mapping: str


@dataclass(frozen=True)
class Audit:
    """Who did what (to one error, or everything recent)."""

    error_id: int | None = None
    as_json: bool = False


@dataclass(frozen=True)
class Doctor:
    """Check the integration setup."""

    as_json: bool = False


Command: TypeAlias = (
    Summary
    | Help
    | ListErrors
    | ListSkipped
    | ShowError
    | Resync
    | Couple
    | CoupleCreate
    | CoupleMatch
    | Uncouple
    | Purge
    | Status
    | Sync
    | Snooze
    | Restore
    | DeleteRecord
    | Schedule
    | ScheduleEvery
    | Pause
    | Resume
    | RunNow
    | Audit
    | Doctor
)

# ---- words -> values ------------------------------------------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """Parse `30m`, `12h`, `7d` or `2w` into a positive timedelta; ValueError names the accepted forms."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(f"“{text}” is not a duration; write {DURATION_FORMS}")
    amount = int(match.group(1))
    if amount == 0:
        raise ValueError(f"“{text}” is not a duration: it must be longer than zero ({DURATION_FORMS})")
    if amount > MAX_DURATION / _UNITS[match.group(2)]:
        raise ValueError(f"“{text}” is too long: at most {MAX_DURATION.days}d")
    return amount * _UNITS[match.group(2)]


def format_duration(duration: timedelta) -> str:
    """Write a duration in the largest unit that divides it (`14d` -> `2w`); the inverse of parse_duration."""
    for unit in ("w", "d", "h", "m"):
        if duration % _UNITS[unit] == timedelta(0):
            return f"{duration // _UNITS[unit]}{unit}"
    raise ValueError(f"{duration} is not a whole number of minutes")


class _Words:
    """The tokens after the subcommand: options by name, the rest positional."""

    def __init__(self, sub: str, tokens: list[str], spec: dict[str, bool], usage: str) -> None:
        self.sub = sub
        self.usage = usage
        self.positional: list[str] = []
        self.options: dict[str, str | None] = {}
        index = 0
        while index < len(tokens):
            token = tokens[index]
            index += 1
            if not token.startswith("-") or _NEGATIVE.match(token):
                self.positional.append(token)
                continue
            name, eq, inline = token.partition("=")
            name = name.lower()
            if name not in spec:
                self.fail(f"{sub} has no option {name}")
            if name in self.options:
                self.fail(f"{name} is given twice")
            takes_value = spec[name]
            if not takes_value:
                if eq:
                    self.fail(f"{name} takes no value")
                self.options[name] = None
                continue
            if eq:
                value = inline
            elif index < len(tokens):
                value = tokens[index]
                index += 1
            else:
                self.fail(f"{name} needs a value")
            if not value:
                self.fail(f"{name} needs a value")
            self.options[name] = value

    def fail(self, problem: str) -> None:
        """Raise the UsageError of this subcommand."""
        raise UsageError(problem, self.usage)

    def flag(self, name: str) -> bool:
        """Whether a flag is present."""
        return name in self.options

    def value(self, name: str) -> str | None:
        """The value of an option, or None."""
        return self.options.get(name)

    def count(self, low: int, high: int, what: str = "more words") -> list[str]:
        """The positional words, after checking how many there are (`what` names the missing ones)."""
        found = len(self.positional)
        if found < low:
            self.fail(f"{self.sub} needs {what}")
        if found > high:
            extra = self.positional[high]
            self.fail(f"unexpected word “{extra}”")
        return self.positional

    def error_id(self, text: str) -> int:
        """An error id (`17` or `#17`)."""
        match = _ERROR_ID.match(text)
        if not match or not 0 < int(match.group(1)) <= MAX_ERROR_ID:
            self.fail(f"“{text}” is not an error id (a number like 17)")
        return int(match.group(1)) if match else 0

    def mapping(self, text: str) -> str:
        """A mapping name, upper-cased (CUSTOMER, ITEM-PRODUCT)."""
        name = text.upper()
        if not _MAPPING.match(name):
            self.fail(f"“{text}” is not a mapping name (like CUSTOMER or ITEM-PRODUCT)")
        return name

    def category(self, text: str) -> str:
        """An error category, lower-cased (permissions, deleted-record, …)."""
        name = text.lower()
        if not _CATEGORY.match(name):
            self.fail(f"“{text}” is not a category (like permissions or deleted-record)")
        return name

    def reference(self, text: str) -> str:
        """A record reference: table:key or a bare GUID."""
        if not (_REFERENCE.match(text) or _GUID.match(text)):
            self.fail(f"“{text}” is not a record reference (like customer:10000 or account:<guid>)")
        return text

    def duration(self, text: str) -> timedelta:
        """A duration, as parse_duration reads it."""
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise UsageError(str(exc), self.usage) from None


_VALUE = True
_FLAG = False
_SPECS: dict[str, dict[str, bool]] = {
    "help": {},
    "list": {
        "--mapping": _VALUE,
        "--category": _VALUE,
        "--status": _VALUE,
        "--limit": _VALUE,
        "--json": _FLAG,
        "--skipped": _FLAG,
    },
    "skipped": {"--mapping": _VALUE, "--json": _FLAG},
    "show": {"--json": _FLAG},
    "resync": {"--failed": _FLAG, "--mapping": _VALUE},
    "couple": {"--sync": _VALUE, "--match": _VALUE, "--create": _FLAG},
    "uncouple": {},
    "purge": {"--older-than": _VALUE, "--all": _FLAG, "--yes": _FLAG},
    "restore": {},
    "delete-record": {},
    "snooze": {},
    "status": {"--json": _FLAG},
    "sync": {"--full": _FLAG},
    "schedule": {"--json": _FLAG},
    "pause": {},
    "resume": {},
    "run": {},
    "audit": {"--json": _FLAG},
    "doctor": {"--json": _FLAG},
}


def tokenize(text: str, *, prog: str = COMMAND) -> list[str]:
    """Split like a shell (quotes group words; Slack's curly quotes count as straight ones)."""
    try:
        return shlex.split(text.translate(_QUOTES))
    except ValueError as exc:
        raise UsageError(f"cannot read the words: {exc}", f"{prog} help") from None


def parse(text: str, *, prog: str = COMMAND) -> Command:
    """Parse the words after `/sync-errors` (or `sync-errors`) into a command; UsageError when wrong."""
    tokens = tokenize(text, prog=prog)
    if not tokens:
        return Summary()
    sub = tokens[0].lower()
    if sub in ("-h", "--help"):
        sub = "help"
    if sub not in _SPECS:
        return Help(unknown_word=tokens[0])
    rest = tokens[1:]
    if any(token.lower() in ("-h", "--help") for token in rest):
        return Help(topic=sub)
    words = _Words(sub, rest, _SPECS[sub], usage_line(sub, prog))
    return _PARSERS[sub](words)


def _help(words: _Words) -> Command:
    found = words.count(0, 1)
    if not found:
        return Help()
    topic = found[0]
    if topic.lower() in _SPECS:
        return Help(topic=topic.lower())
    return Help(unknown_word=topic)


def _skipped(words: _Words) -> Command:
    words.count(0, 0)
    mapping = words.value("--mapping")
    return ListSkipped(mapping=words.mapping(mapping) if mapping else None, as_json=words.flag("--json"))


def _list(words: _Words) -> Command:
    if words.flag("--skipped"):
        if any(words.value(option) is not None for option in ("--category", "--status", "--limit")):
            words.fail("--skipped lists couplings; give it alone or with --mapping")
        return _skipped(words)
    words.count(0, 0)
    mapping, category = words.value("--mapping"), words.value("--category")
    status = (words.value("--status") or "open").lower()
    if status not in STATUSES:
        words.fail(f"“{status}” is not a status; use one of {', '.join(STATUSES)}")
    limit_text = words.value("--limit")
    limit = DEFAULT_LIMIT
    if limit_text is not None:
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
            words.fail(f"--limit must be a number from 1 to {MAX_LIMIT}")
        limit = int(limit_text)
    return ListErrors(
        mapping=words.mapping(mapping) if mapping else None,
        category=words.category(category) if category else None,
        status=_status(status),
        limit=limit,
        as_json=words.flag("--json"),
    )


def _status(text: str) -> StatusFilter:
    for status in STATUSES:
        if status == text:
            return status
    return "open"


def _show(words: _Words) -> Command:
    (error_id,) = words.count(1, 1, "an error id")
    return ShowError(error_id=words.error_id(error_id), as_json=words.flag("--json"))


def _resync(words: _Words) -> Command:
    ids = tuple(words.error_id(token) for token in words.count(0, 1000))
    failed = words.flag("--failed")
    mapping = words.value("--mapping")
    if failed and ids:
        words.fail("give error ids or --failed, not both")
    if not failed and not ids:
        words.fail("give error ids or --failed")
    if mapping and not failed:
        words.fail("--mapping goes with --failed")
    return Resync(error_ids=ids, failed=failed, mapping=words.mapping(mapping) if mapping else None)


def _couple(words: _Words) -> Command:
    match = words.value("--match")
    if match is not None:
        words.count(0, 0)
        if words.value("--sync") is not None:
            words.fail("--sync goes with two references, not with --match")
        return CoupleMatch(mapping=words.mapping(match))
    if words.flag("--create"):
        if words.value("--sync") is not None:
            words.fail("--create takes one record and no --sync")
        (ref,) = words.count(1, 1, "one record reference")
        return CoupleCreate(ref=words.reference(ref))
    bc_ref, dataverse_ref = words.count(2, 2, "two record references (or --match MAPPING)")
    sync = (words.value("--sync") or "none").lower()
    side: SyncSide = "none"
    for candidate in SYNC_SIDES:
        if candidate == sync:
            side = candidate
            break
    else:
        words.fail(f"“{sync}” is not a --sync choice; use one of {', '.join(SYNC_SIDES)}")
    return Couple(bc_ref=words.reference(bc_ref), dataverse_ref=words.reference(dataverse_ref), sync=side)


def _uncouple(words: _Words) -> Command:
    (ref,) = words.count(1, 1, "a record reference")
    return Uncouple(ref=words.reference(ref))


def _purge(words: _Words) -> Command:
    words.count(0, 0)
    older = words.value("--older-than")
    purge_all = words.flag("--all")
    if older is not None and purge_all:
        words.fail("give --older-than or --all, not both")
    if older is None and not purge_all:
        words.fail("say what to delete: --older-than DURATION or --all")
    return Purge(
        older_than=words.duration(older) if older is not None else None,
        purge_all=purge_all,
        yes=words.flag("--yes"),
    )


def _restore(words: _Words) -> Command:
    (error_id,) = words.count(1, 1, "an error id")
    return Restore(error_id=words.error_id(error_id))


def _delete_record(words: _Words) -> Command:
    (error_id,) = words.count(1, 1, "an error id")
    return DeleteRecord(error_id=words.error_id(error_id))


def _snooze(words: _Words) -> Command:
    error_id, duration = words.count(2, 2, "an error id and a duration")
    return Snooze(error_id=words.error_id(error_id), duration=words.duration(duration))


def _status_cmd(words: _Words) -> Command:
    words.count(0, 0)
    return Status(as_json=words.flag("--json"))


def _sync(words: _Words) -> Command:
    mappings = tuple(words.mapping(token) for token in words.count(0, 100))
    return Sync(mappings=mappings, full=words.flag("--full"))


def _schedule(words: _Words) -> Command:
    found = words.count(0, 3)
    if not found:
        return Schedule(as_json=words.flag("--json"))
    if words.flag("--json"):
        words.fail("--json goes with the list of schedules, not with a change")
    if len(found) != 3 or found[1].lower() != "every":
        words.fail("write: schedule MAPPING every DURATION")
    return ScheduleEvery(mapping=words.mapping(found[0]), every=words.duration(found[2]))


def _mapping_only(words: _Words) -> str:
    (mapping,) = words.count(1, 1, "a mapping name")
    return words.mapping(mapping)


def _audit(words: _Words) -> Command:
    found = words.count(0, 1)
    return Audit(error_id=words.error_id(found[0]) if found else None, as_json=words.flag("--json"))


def _doctor(words: _Words) -> Command:
    words.count(0, 0)
    return Doctor(as_json=words.flag("--json"))


_PARSERS = {
    "help": _help,
    "list": _list,
    "skipped": _skipped,
    "show": _show,
    "resync": _resync,
    "couple": _couple,
    "uncouple": _uncouple,
    "purge": _purge,
    "restore": _restore,
    "delete-record": _delete_record,
    "snooze": _snooze,
    "status": _status_cmd,
    "sync": _sync,
    "schedule": _schedule,
    "pause": lambda words: Pause(mapping=_mapping_only(words)),
    "resume": lambda words: Resume(mapping=_mapping_only(words)),
    "run": lambda words: RunNow(mapping=_mapping_only(words)),
    "audit": _audit,
    "doctor": _doctor,
}

# ---- command -> words -------------------------------------------------------------------------------------


def format_command(command: Command) -> str:
    """Write a command back as the words `parse` reads (without the program name)."""
    words = _format_words(command)
    return shlex.join(words)


def _format_words(command: Command) -> list[str]:
    json_flag = ["--json"] if getattr(command, "as_json", False) else []
    match command:
        case Summary():
            return []
        case Help(topic=topic, unknown_word=unknown):
            word = topic or unknown
            return ["help", word] if word else ["help"]
        case ListErrors():
            words = ["list"]
            if command.mapping:
                words += ["--mapping", command.mapping]
            if command.category:
                words += ["--category", command.category]
            if command.status != "open":
                words += ["--status", command.status]
            if command.limit != DEFAULT_LIMIT:
                words += ["--limit", str(command.limit)]
            return words + json_flag
        case ListSkipped():
            mapping = ["--mapping", command.mapping] if command.mapping else []
            return ["skipped", *mapping, *json_flag]
        case ShowError():
            return ["show", str(command.error_id), *json_flag]
        case Resync():
            if command.failed:
                return ["resync", "--failed"] + (["--mapping", command.mapping] if command.mapping else [])
            return ["resync", *map(str, command.error_ids)]
        case Couple():
            sync = ["--sync", command.sync] if command.sync != "none" else []
            return ["couple", command.bc_ref, command.dataverse_ref, *sync]
        case CoupleMatch():
            return ["couple", "--match", command.mapping]
        case CoupleCreate():
            return ["couple", command.ref, "--create"]
        case Uncouple():
            return ["uncouple", command.ref]
        case Purge():
            scope = (
                ["--all"]
                if command.older_than is None
                else ["--older-than", format_duration(command.older_than)]
            )
            return ["purge", *scope] + (["--yes"] if command.yes else [])
        case Status():
            return ["status", *json_flag]
        case Sync():
            return ["sync", *command.mappings] + (["--full"] if command.full else [])
        case Snooze():
            return ["snooze", str(command.error_id), format_duration(command.duration)]
        case Restore():
            return ["restore", str(command.error_id)]
        case DeleteRecord():
            return ["delete-record", str(command.error_id)]
        case Schedule():
            return ["schedule", *json_flag]
        case ScheduleEvery():
            return ["schedule", command.mapping, "every", format_duration(command.every)]
        case Pause():
            return ["pause", command.mapping]
        case Resume():
            return ["resume", command.mapping]
        case RunNow():
            return ["run", command.mapping]
        case Audit():
            return ["audit"] + ([str(command.error_id)] if command.error_id is not None else []) + json_flag
        case Doctor():
            return ["doctor", *json_flag]
    raise TypeError(f"not a command: {command!r}")


def supports_json(command: Command) -> bool:
    """Whether the command has a `--json` form."""
    return any(field.name == "as_json" for field in fields(command))
