"""Every user-facing word of the Slack messages, in one place, through gettext (en is the source)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_decimal

from bot.blocks import mrkdwn
from bot.i18n import gettext_for, normalize_locale
from bot.phrases import Phrase, render, resolution_phrase
from storage.models import Category, Direction, Door, ErrorStatus, JobType, System

CATEGORY_EMOJI: dict[str, str] = {
    Category.PERMISSIONS: "🔒",
    Category.ADMIN_INTEGRATION_USER: "👮",
    Category.CREDENTIALS: "🔑",
    Category.EXCHANGE_RATE: "💱",
    Category.DELETED_RECORD: "🗑️",
    Category.DEPENDENCY_NOT_COUPLED: "🔗",
    Category.UPDATE_CONFLICT: "🔀",
    Category.THROTTLED: "🐢",
    Category.CONNECTION: "🔌",
    Category.VALIDATION: "⚠️",
    Category.ADMIN_MODE: "🚧",
    Category.SEVERAL_MATCHES: "👥",
    Category.OTHER: "❌",
}


class AdminAction(StrEnum):
    """What only sync admins may do: the keys of build_refusal (ADMIN_KINDS' values among them)."""

    PURGE = "purge"
    COUPLE = "couple"
    UNCOUPLE = "uncouple"
    RESTORE_RECORD = "restore_record"
    DELETE_RECORD = "delete_record"
    DELETE_ERROR = "delete_error"
    SYNC = "sync"  # everything at once; named mappings are anyone's
    SCHEDULE = "schedule"
    RUN = "run"


class Problem(StrEnum):
    """Why a click or command could not be answered as asked (our wording, never an exception's)."""

    NO_ERROR = "no_error"
    NO_DAYS = "no_days"
    LIST_UNREADABLE = "list_unreadable"
    DIALOG_NOT_OPENED = "dialog_not_opened"
    CONFIRMATION_NOT_OPENED = "confirmation_not_opened"
    CONFIRMATION_UNREADABLE = "confirmation_unreadable"
    CONFIRMATION_MISMATCH = "confirmation_mismatch"
    WHOLE_DAYS = "whole_days"
    DIALOG_NAMES_NO_ERROR = "dialog_names_no_error"


def _(text: str) -> str:
    """Mark a fixed word as a message id (Babel extracts it); Wording.word translates it."""
    return text


class Word(StrEnum):
    """The fixed words of the messages: Wording.word(Word.X) in the reader's language (the English is the
    gettext message id)."""

    BUTTON_RESYNC = _("Re-sync")
    BUTTON_RESYNC_ONCE_FIXED = _("Re-sync once fixed")
    BUTTON_COUPLE = _("Couple…")
    BUTTON_COUPLE_THIS = _("Couple to this one")
    BUTTON_COUPLE_DEPENDENCY = _("Couple dependency")
    BUTTON_UNCOUPLE = _("Remove coupling")
    BUTTON_RESTORE = _("Restore record")
    BUTTON_DELETE_RECORD = _("Delete record")
    BUTTON_KEEP_BC = _("Keep Business Central's values")
    BUTTON_KEEP_DATAVERSE = _("Keep Sales' values")
    BUTTON_SNOOZE = _("Snooze…")
    BUTTON_DETAILS = _("Details")
    BUTTON_DELETE_ENTRY = _("Delete entry")
    BUTTON_MORE = _("More")
    BUTTON_REFRESH = _("Refresh")
    BUTTON_PURGE_ALL = _("Delete all entries")
    CANCEL = _("Cancel")
    LIST_IN_THREAD = _("The list is in the thread.")
    BY_MAPPING_AND_CATEGORY = _("By mapping and category")
    BY_CAUSE = _("By cause")
    PARENTS_NOT_COUPLED = _("Parent records are not coupled")
    TOP_RECORDS = _("Most affected records")
    OPEN_ERRORS = _("Open sync errors")
    NO_OPEN_ERRORS = _("No open errors. 🎉")
    LAST_JOBS = _("Last jobs")
    NO_JOBS = _("No synchronization has run yet.")
    JOBS_TITLE = _("Synchronization jobs")
    JOB_RUNNING = _("running")
    DURATIONS_HINT = _("Durations look like 30m, 12h, 7d or 2w. References look like customer:10000.")
    ERRORS_TITLE = _("Sync errors")
    NO_ERRORS_MATCH = _("No errors match.")
    MORE_BELOW = _("Older errors are on the next page.")
    NO_FULL_TEXT = _("No further text.")
    AUDIT_TITLE = _("Audit log")
    NOTHING_RECORDED = _("Nothing recorded yet.")
    ALREADY_OPEN = _("This error is still open.")
    ANSWER_LATER = _("I will answer here when it is done.")
    ANSWER_ON_MESSAGES = _("Each error's message changes when its work is done.")
    SKIPPED_TITLE = _("Coupled Data Synchronization Errors")
    NO_SKIPPED = _("No coupling is Skipped.")
    DOCTOR_WORKING = _("🩺 Checking the integration setup… I will answer here.")
    DOCTOR_TITLE = _("Integration setup")
    CHECKS_PASSED = _("All checks passed.")
    SCHEDULE_TITLE = _("Scheduled syncs")
    SCHEDULE_DISABLED = _("disabled")
    SCHEDULE_PAUSED = _("⏸ paused")
    LAST_RUN_OK = _("last run ok")
    RUNNING_NOW = _("running now")
    PURGE_TITLE = _("Delete entries")  # Purge modal title (≤ 24 characters)
    PURGE_SUBMIT = _("Delete")  # Purge modal submit (≤ 24 characters)
    CLOSE = _("Close")  # Modal close (≤ 24 characters)
    CANNOT_UNDO = _("⚠️ It cannot be undone.")
    NOTHING_TO_DELETE = _("There is nothing to delete.")
    SNOOZE_TITLE = _("Snooze error")
    SNOOZE_SUBMIT = _("Snooze")
    SNOOZE_LABEL = _("For how long?")
    COUPLE_TITLE = _("Couple records")
    COUPLE_SUBMIT = _("Couple")
    COUPLE_PLACEHOLDER = _("account:6f1c… or customer:10000")
    COUPLE_HINT = _("A table and a number or GUID, like customer:10000 or account:6f1c…")
    COUPLE_SYNC_LABEL = _("After coupling, copy")
    HOME_TITLE = _("Business Central ↔ Sales synchronization")
    NEXT_RUNS = _("Next runs")
    NO_SCHEDULE = _("Nothing is scheduled.")
    QUICK_ACTIONS = _("Quick actions")
    # the terminal's labels and table headers (bot.cli)
    CLI_ERROR = _("Error:")
    CLI_ABORTED = _("Aborted; nothing changed.")
    CLI_MESSAGE = _("Message:")
    CLI_SEEN = _("Seen:")
    CLI_CODE = _("Code:")
    CLI_WHAT_TO_DO = _("What to do:")
    CLI_COMMANDS = _("Commands:")
    CLI_RESOLVED = _("Resolved:")
    CLI_ID = _("ID")
    CLI_LAST_SEEN = _("Last seen")
    CLI_MAPPING_CATEGORY = _("Mapping · category")
    CLI_RECORD_MESSAGE = _("Record and message")
    CLI_WHEN = _("When")
    CLI_WHO_DOOR = _("Who · door")
    CLI_ACTION = _("Action")
    CLI_TARGET_RESULT = _("Target · result · detail")
    CLI_MAPPING = _("Mapping")
    CLI_TABLES = _("Tables")
    CLI_SETTING = _("Setting")
    CLI_VALUE = _("Value")
    CLI_JOB = _("Job")
    CLI_STATE = _("State")
    CLI_NEXT_RUN = _("Next run")
    CLI_LAST_RUN = _("Last run and result")
    CLI_DIRECTION = _("Dir")
    CLI_STARTED = _("Started")
    CLI_COUNTERS = _("Counters")
    CLI_BY = _("By")
    CLI_MESSAGE_COLUMN = _("Message")
    CLI_TIMES_UTC = _("Times in UTC.")
    CLI_SOURCE = _("Source")
    CLI_DESTINATION = _("Destination")
    CLI_FULL_TEXT = _("Full text")
    CLI_FAILED = _("Failed")
    CLI_LAST_ERROR = _("Last error")
    CLI_FIX = _("Fix")
    CLI_USAGE = _("Usage:")


SYSTEM_NAMES: dict[str, str] = {System.BUSINESS_CENTRAL: "Business Central", System.DATAVERSE: "Dataverse"}

# API entity sets and logical names -> the noun people use for one such record.
_TABLE_NOUNS: dict[str, str] = {
    "customers": "customer",
    "customer": "customer",
    "contacts": "contact",
    "contact": "contact",
    "currencies": "currency",
    "currency": "currency",
    "transactioncurrencies": "currency",
    "transactioncurrency": "currency",
    "items": "item",
    "item": "item",
    "products": "product",
    "product": "product",
    "salespeople": "salesperson",
    "salesperson": "salesperson",
    "systemusers": "user",
    "systemuser": "user",
    "accounts": "account",
    "account": "account",
}


_CATEGORY_WORDS: dict[str, str] = {
    Category.PERMISSIONS: _("Missing permission"),
    Category.ADMIN_INTEGRATION_USER: _("Integration user is an administrator"),
    Category.CREDENTIALS: _("Sign-in failed"),
    Category.EXCHANGE_RATE: _("Missing exchange rate"),
    Category.DELETED_RECORD: _("Coupled record was deleted"),
    Category.DEPENDENCY_NOT_COUPLED: _("Related record is not coupled"),
    Category.UPDATE_CONFLICT: _("Changed on both sides"),
    Category.THROTTLED: _("Throttled"),
    Category.CONNECTION: _("Connection failed"),
    Category.VALIDATION: _("Record refused"),
    Category.ADMIN_MODE: _("Environment in administration mode"),
    Category.SEVERAL_MATCHES: _("Several records match"),
}

_STATUS_WORDS: dict[str, str] = {
    ErrorStatus.OPEN: _("open"),
    ErrorStatus.RESOLVED: _("resolved"),
    ErrorStatus.SNOOZED: _("snoozed"),
}

_JOB_TYPE_WORDS: dict[str, str] = {
    JobType.SYNC: _("sync"),
    JobType.COUPLING: _("coupling"),
    JobType.UNCOUPLING: _("uncoupling"),
    JobType.CLEANUP: _("cleanup"),
}

_DOOR_WORDS: dict[str, str] = {
    Door.SLACK: _("Slack"),
    Door.TERMINAL: _("terminal"),
    Door.SCHEDULE: _("schedule"),
}

_PROBLEM_WORDS: dict[str, str] = {
    Problem.NO_ERROR: _("This button does not name an error."),
    Problem.NO_DAYS: _("This button does not say how many days."),
    Problem.LIST_UNREADABLE: _("This button's list cannot be read any more; ask for it again."),
    Problem.DIALOG_NOT_OPENED: _("Slack did not open the dialog (it was too late); click again."),
    Problem.CONFIRMATION_NOT_OPENED: _("Slack did not open the confirmation; try again."),
    Problem.CONFIRMATION_UNREADABLE: _("The confirmation could not be read; nothing was deleted."),
    Problem.CONFIRMATION_MISMATCH: _(
        "This confirmation does not match what was shown, or was already used; nothing was deleted. "
        "Open the purge again."
    ),
    Problem.WHOLE_DAYS: _("In Slack, --older-than takes whole days (like 7d); the terminal takes hours too."),
    Problem.DIALOG_NAMES_NO_ERROR: _("This dialog names no error; close it."),
}

_CHECK_TITLE_WORDS: dict[str, str] = {
    "bc-sign-in": _("Sign-in to Business Central"),
    "dataverse-sign-in": _("Sign-in to Dataverse"),
    "bc-api": _("Business Central API and company"),
    "dataverse-api": _("Dataverse API (not in administration mode)"),
    "integration-user-not-admin": _("Integration user is not a System Administrator"),
    "integration-user-role": _("Integration user holds the integration role"),
    "integration-user-privileges": _("Integration user holds the privileges the mappings need"),
    "integration-user-enabled": _("Integration user is enabled"),
    "integration-user-non-interactive": _("Integration user is non-interactive"),
    "currencies": _("Customers' currencies are coupled and have exchange rates"),
    "mapping-dependencies": _("Mapping dependencies are enabled"),
    "throttling": _("No throttling"),
    "skipped-couplings": _("No coupling is Skipped"),
}


@lru_cache(maxsize=8)
def _babel_locale(locale: str) -> Locale:
    """Babel's Locale, parsed once (parsing per number took a global lock on every message)."""
    return Locale.parse(locale)


@lru_cache(maxsize=4096, typed=True)
def _decimal(value: int, locale: str) -> str:
    """An integer in the locale's digits, formatted once (Babel takes ~20 µs a number; counts repeat)."""
    return str(format_decimal(value, locale=_babel_locale(locale)))


class Wording:
    """The words of one locale; builders take one and never spell a sentence themselves."""

    def __init__(self, locale: str | None = "en") -> None:
        self.locale = normalize_locale(locale)
        translations = gettext_for(self.locale)
        self._ = translations.gettext
        self._ngettext = translations.ngettext
        self._p = translations.pgettext

    def _n(self, singular: str, plural: str, count: int, **values: object) -> str:
        """The plural form for `count`, with {n} (the count in the locale's digits) and `values` filled in."""
        return self._ngettext(singular, plural, count).format(n=self.number(count), **values)

    def _lookup(self, words: dict[str, str], key: str, default: str | None = None) -> str:
        """The words of `key` in a table of message ids; `default` (or the key itself) when unknown."""
        message = words.get(key)
        if message is None:
            return key if default is None else default
        return self._(message)

    def word(self, word: Word) -> str:
        """A fixed word (button, title, empty state) in this locale."""
        return self._(word.value)

    # ---- numbers, dates, names --------------------------------------------------------------------

    def number(self, value: int) -> str:
        """A count with the locale's digit grouping."""
        return _decimal(value, self.locale)

    def date(self, moment: datetime) -> str:
        """A date token readers see in their own time zone."""
        # Slack fills the {…} placeholders itself; they are not Python format fields.
        return mrkdwn.date(moment, self._("{date_short_pretty} at {time}"))

    def system(self, system: str) -> str:
        """The product name of a system."""
        return SYSTEM_NAMES.get(system, system)

    def table(self, table: str) -> str:
        """The noun for one record of a table ("customers" -> "customer")."""
        _ = self._
        nouns = {
            "customer": _("customer"),
            "contact": _("contact"),
            "currency": _("currency"),
            "item": _("item"),
            "product": _("product"),
            "salesperson": _("salesperson"),
            "user": _("user"),
            "account": _("account"),
        }
        noun = _TABLE_NOUNS.get(table.lower())
        return nouns[noun] if noun else table

    def record(self, system: str, table: str, key: str | None, name: str | None) -> str:
        """ "Business Central customer 10000 Adatum" (plain text; escape before use in mrkdwn)."""
        parts = [part for part in (key, name) if part]
        if len(parts) == 2 and parts[0] == parts[1]:
            parts = parts[:1]
        return (
            self._("{system} {table} {record}")
            .format(system=self.system(system), table=self.table(table), record=" ".join(parts))
            .strip()
        )

    def category(self, category: str) -> str:
        """The title of an error category."""
        return self._lookup(_CATEGORY_WORDS, category, self._("Sync failed"))

    def direction(self, direction: str) -> str:
        """A mapping's or run's direction in words."""
        _ = self._
        if direction == Direction.TO_DATAVERSE:
            return _("Business Central → Dataverse")
        if direction == Direction.FROM_DATAVERSE:
            return _("Dataverse → Business Central")
        return _("both ways")

    def status(self, status: str) -> str:
        """An error status in words."""
        return self._lookup(_STATUS_WORDS, status)

    def job_type(self, job_type: str) -> str:
        """A job type in words."""
        return self._lookup(_JOB_TYPE_WORDS, job_type)

    def door(self, door: str) -> str:
        """Through which door an action came in."""
        return self._lookup(_DOOR_WORDS, door)

    def result(self, result: str) -> str:
        """An audit result in words."""
        _ = self._
        return {"ok": _("ok"), "refused": _("refused"), "failed": _("failed"), "queued": _("queued")}.get(
            result, result
        )

    # ---- the error message ----------------------------------------------------------------------

    def mapping(self, name: str) -> str:
        """ "Mapping CUSTOMER"."""
        return self._("Mapping {mapping}").format(mapping=name)

    def occurrences(self, count: int) -> str:
        """ "3 occurrences"."""
        return self._n("{n} occurrence", "{n} occurrences", count)

    def first_seen(self, moment: datetime) -> str:
        """ "first seen <date>"."""
        return self._("first seen {date}").format(date=self.date(moment))

    def last_seen(self, moment: datetime) -> str:
        """ "last seen <date>"."""
        return self._("last seen {date}").format(date=self.date(moment))

    def error_ref(self, error_id: int | None) -> str:
        """ "Error #17"."""
        return self._("Error #{id}").format(id=error_id if error_id is not None else "?")

    def job_ref(self, job_id: str) -> str:
        """ "job 6f1c…"."""
        return self._("job {job}").format(job=job_id)

    def code(self, code: str) -> str:
        """ "code 0x80040220"."""
        return self._("code {code}").format(code=code)

    def resolved(self, by: str, at: datetime | None, resolution: str | None) -> str:
        """ "✅ Resolved by @x at <date> — how"."""
        line = (
            self._("✅ Resolved by {user} at {date}").format(user=by, date=self.date(at))
            if at
            else self._("✅ Resolved by {user}").format(user=by)
        )
        return f"{line} — {resolution}" if resolution else line

    def snoozed(self, until: datetime | None, by: str | None) -> str:
        """ "😴 Snoozed until <date> by @x"."""
        if until is None:
            return self._("😴 Snoozed")
        if by:
            return self._("😴 Snoozed until {date} by {user}").format(date=self.date(until), user=by)
        return self._("😴 Snoozed until {date}").format(date=self.date(until))

    def repeat(self, count: int, last_seen: datetime) -> str:
        """The thread reply for a repeat."""
        return self._n(
            "🔁 Happened again: {n} time in all, last at {date}.",
            "🔁 Happened again: {n} times in all, last at {date}.",
            count,
            date=self.date(last_seen),
        )

    def repeat_fallback(self, title: str, count: int) -> str:
        """Plain text of the repeat reply."""
        return self._n(
            "{title} happened again ({n} time)", "{title} happened again ({n} times)", count, title=title
        )

    # ---- buttons and confirm dialogs ----------------------------------------------------------------

    def button_create_partner(self, app: str) -> str:
        """Button: none of the matches is the right one, create a new record in the other app (Create New)."""
        return self._("Create new in {app}").format(app=app)

    def confirm_create_partner(self, app: str) -> tuple[str, str, str]:
        """Title, text and yes of the confirmation before creating a new partner record."""
        _ = self._
        return (
            _("Create a new record?"),
            _(
                "A new record is created in {app} and coupled to this one; the records that matched stay "
                "as they are."
            ).format(app=app),
            _("Create"),
        )

    def button_open(self, system: str) -> str:
        """Link button: open the record."""
        return self._("Open in {system}").format(system=self.system(system))

    def button_purge_older(self, days: int) -> str:
        """Button: purge entries older than N days."""
        return self._n("Delete entries older than {n} day", "Delete entries older than {n} days", days)

    def confirm_delete_record(self, record: str) -> tuple[str, str, str]:
        """Title, text and confirm word of the delete-record dialog."""
        _ = self._
        return (
            _("Delete the record?"),
            _("This deletes {record} and removes its coupling. It cannot be undone.").format(record=record),
            _("Delete record"),
        )

    def confirm_uncouple(self, first: str, second: str) -> tuple[str, str, str]:
        """Title, text and confirm word of the remove-coupling dialog."""
        _ = self._
        return (
            _("Remove the coupling?"),
            _("{first} and {second} will no longer sync with each other. Both records stay.").format(
                first=first, second=second
            ),
            _("Remove coupling"),
        )

    def confirm_delete_entry(self, error_id: int | None) -> tuple[str, str, str]:
        """Title, text and confirm word of the delete-entry dialog."""
        _ = self._
        return (
            _("Delete this entry?"),
            _("This deletes error #{id} from the log. The records are not touched.").format(
                id=error_id if error_id is not None else "?"
            ),
            _("Delete entry"),
        )

    def confirm_purge_older(self, days: int) -> tuple[str, str, str]:
        """Title, text and confirm word of the purge-older-than dialog."""
        _ = self._
        text = self._n(
            "This deletes every error entry older than {n} day. You will see how many first.",
            "This deletes every error entry older than {n} days. You will see how many first.",
            days,
        )
        return _("Delete old entries?"), text, _("Continue")

    def confirm_purge_all(self) -> tuple[str, str, str]:
        """Title, text and confirm word of the purge-all dialog."""
        _ = self._
        return (
            _("Delete all entries?"),
            _("This deletes every error entry, open ones included. You will see how many first."),
            _("Continue"),
        )

    # ---- one cause, many records; bursts ---------------------------------------------------------

    def missing_privilege(self, privilege: str) -> str:
        """ "Missing privilege prvCreateAccount"."""
        return self._("Missing privilege {privilege}").format(privilege=privilege)

    def records_failed(self, headline: str, count: int) -> str:
        """ "<headline> — 214 records failed"."""
        return self._n(
            "{headline} — {n} record failed", "{headline} — {n} records failed", count, headline=headline
        )

    def example(self, record: str) -> str:
        """ "For example: <record>"."""
        return self._("For example: {record}").format(record=record)

    def new_errors(self, count: int) -> str:
        """Digest title."""
        return self._n("{n} new sync error", "{n} new sync errors", count)

    def page(self, page: int, pages: int) -> str:
        """ "Page 2 of 5"."""
        return self._("Page {page} of {pages}").format(page=page, pages=pages)

    def and_more(self, count: int) -> str:
        """ "… and 12 more"."""
        return self._n("… and {n} more", "… and {n} more", count)

    # ---- command replies ----------------------------------------------------------------------------

    def open_error_count(self, count: int) -> str:
        """ "12 open errors"."""
        return self._n("{n} open error", "{n} open errors", count)

    def job_started(self, moment: datetime) -> str:
        """ "started <date>"."""
        return self._("started {date}").format(date=self.date(moment))

    def counters(self, counts: dict[str, int]) -> str:
        """ "inserted 3 · modified 5 · failed 1" (only the non-zero ones; "nothing changed" when none)."""
        _ = self._
        names = {
            "inserted": _("inserted {n}"),
            "modified": _("modified {n}"),
            "deleted": _("deleted {n}"),
            "unchanged": _("unchanged {n}"),
            "skipped": _("skipped {n}"),
            "failed": _("failed {n}"),
            "coupled": _("coupled {n}"),
            "uncoupled": _("uncoupled {n}"),
        }
        parts = [names[key].format(n=self.number(value)) for key, value in counts.items() if value]
        return " · ".join(parts) if parts else _("nothing changed")

    def help_hint(self, command: str) -> str:
        """Pointer to the help."""
        return self._("Type `{command} help` to see every command.").format(command=command)

    def help_title(self, command: str) -> str:
        """Title of the help."""
        return self._("How to use {command}").format(command=command)

    def unknown_word(self, word: str) -> str:
        """The first word was not a subcommand."""
        return self._("I don't know “{word}”. Here is what I understand:").format(word=word)

    def help_lines(self) -> list[tuple[str, str]]:
        """(subcommand usage, what it does), the same words as bot.commands.USAGE."""
        _ = self._
        return [
            ("", _("summary of open errors and the last jobs")),
            ("help [SUBCOMMAND]", _("this help")),
            (
                "list [--mapping M] [--category C] [--status open|resolved|snoozed|all] [--limit N] [--json]",
                _("errors, newest first"),
            ),
            (
                "skipped [--mapping M] [--json]",
                _("the Skipped couplings (Coupled Data Synchronization Errors), each with its last error"),
            ),
            ("show ID [--json]", _("one error with its full text and both record links")),
            ("resync ID ... | --failed [--mapping M]", _("re-synchronizes the records behind errors")),
            ("couple BC_REF DV_REF [--sync none|bc|dataverse]", _("couples two records")),
            ("couple REF --create", _("creates the partner of one uncoupled record and couples it")),
            ("couple --match MAPPING", _("couples records that match")),
            ("uncouple REF", _("removes a coupling")),
            (
                "purge --older-than DURATION | --all [--yes]",
                _("deletes error entries not seen for that long"),
            ),
            ("restore ID", _("recreates the deleted side of a coupled record")),
            ("delete-record ID", _("deletes the surviving side of a coupled record")),
            ("snooze ID DURATION", _("hides an error's notifications until then")),
            ("status [--json]", _("the latest jobs per mapping with their counters")),
            ("sync [MAPPING ...] [--full]", _("runs synchronization now")),
            ("schedule [--json]", _("the scheduled jobs")),
            ("schedule MAPPING every DURATION", _("changes how often a mapping syncs")),
            ("pause MAPPING", _("pauses a mapping's schedule")),
            ("resume MAPPING", _("resumes a mapping's schedule")),
            ("run MAPPING", _("runs a mapping's scheduled job now")),
            ("audit [ID] [--json]", _("who did what, when")),
            ("doctor [--json]", _("checks the integration setup")),
        ]

    def usage(self, usage: str) -> str:
        """ "Usage: `…`"."""
        return self._("Usage: {usage}").format(usage=f"`{usage}`")

    def details_fields(self) -> dict[str, str]:
        """Labels of the facts in the details reply."""
        _ = self._
        return {
            "category": _("Category"),
            "status": _("Status"),
            "mapping": _("Mapping"),
            "direction": _("Direction"),
            "code": _("Code"),
            "occurrences": _("Occurrences"),
            "first_seen": _("First seen"),
            "last_seen": _("Last seen"),
            "job": _("Job"),
            "source": _("Source"),
            "destination": _("Destination"),
            "full_text": _("Full text"),
            "facts": _("Facts"),
        }

    def refusal(self, action: str, admins: Sequence[str]) -> str:
        """ "⛔ Only sync admins may restore records. Ask @a or @b." (or: nobody is set up yet)."""
        _ = self._
        verbs: dict[str, str] = {
            AdminAction.PURGE: _("delete error entries"),
            AdminAction.COUPLE: _("couple records"),
            AdminAction.UNCOUPLE: _("remove couplings"),
            AdminAction.RESTORE_RECORD: _("restore records"),
            AdminAction.DELETE_RECORD: _("delete records"),
            AdminAction.DELETE_ERROR: _("delete entries from the error log"),
            AdminAction.SYNC: _("synchronize every mapping at once"),
            AdminAction.SCHEDULE: _("change schedules"),
            AdminAction.RUN: _("start a scheduled sync by hand"),
        }
        verb = verbs.get(action, _("do this"))
        if admins:
            return _("⛔ Only sync admins may {action}. Ask {admins}.").format(
                action=verb, admins=self.either(admins)
            )
        return _(
            "⛔ Only sync admins may {action}, and none is set up yet: ask whoever runs the bot."
        ).format(action=verb)

    def either(self, items: Sequence[str]) -> str:
        """ "a, b or c" in the locale's words."""
        return str(format_list(list(items), style="or", locale=_babel_locale(self.locale)))

    def already(self, action: str, by: str, at: datetime | None) -> str:
        """ "Already re-synced by @x at <date>."."""
        _ = self._
        done = {
            "resync": _("re-synced"),
            "couple": _("coupled"),
            "couple_dependency": _("coupled"),
            "uncouple": _("uncoupled"),
            "restore_record": _("restored"),
            "delete_record": _("deleted"),
            "delete_error": _("deleted"),
            "snooze": _("snoozed"),
            "resolve": _("resolved"),
            "keep_bc": _("resolved"),
            "keep_dataverse": _("resolved"),
            "purge": _("purged"),
        }.get(action, _("done"))
        if at is None:
            return _("Already {done} by {user}.").format(done=done, user=by)
        return _("Already {done} by {user} at {date}.").format(done=done, user=by, date=self.date(at))

    def already_snoozed(self, until: datetime | None, by: str | None) -> str:
        """The error is snoozed already."""
        return self._("Already snoozed.") + " " + self.snoozed(until, by)

    def failed(self, text: str) -> str:
        """ "⚠️ That did not work: …"."""
        return self._("⚠️ That did not work: {reason}").format(reason=text)

    # ---- queued work and answers done at once ------------------------------------------------------

    def work(self, kind: str) -> str:
        """What a work kind is, as a noun phrase ("Re-sync")."""
        _p = self._p
        nouns = {
            "resync": _p("work", "Re-sync"),
            "resync_failed": _p("work", "Re-sync of failed records"),
            "couple": _p("work", "Coupling"),
            "couple_match": _p("work", "Coupling by match"),
            "couple_create": _p("work", "Creating the partner record"),
            "couple_dependency": _p("work", "Coupling of the missing dependency"),
            "uncouple": _p("work", "Removing the coupling"),
            "restore_record": _p("work", "Restoring the record"),
            "delete_record": _p("work", "Deleting the record"),
            "keep_bc": _p("work", "Keeping Business Central's values"),
            "keep_dataverse": _p("work", "Keeping Dataverse's values"),
            "sync": _p("work", "Synchronization"),
            "run": _p("work", "Synchronization"),
        }
        return nouns.get(kind) or mrkdwn.escape(kind)

    def queued(self, work: str, target: str) -> str:
        """ "⏳ Queued: Re-sync of #17."."""
        return self._("⏳ Queued: {work} of {target}.").format(work=work, target=target)

    def already_queued(self, work: str, target: str, by: str, at: datetime, running: bool) -> str:
        """ "⏳ Re-sync of #17 is already queued by @x (<date>)."."""
        template = (
            self._("⏳ {work} of {target} is already running, asked for by {user} ({date}).")
            if running
            else self._("⏳ {work} of {target} is already queued by {user} ({date}).")
        )
        return template.format(work=work, target=target, user=by, date=self.date(at))

    def entry_deleted(self, error_id: int) -> str:
        """ "Entry #17 deleted (the records stay as they are)."."""
        return self._("Entry #{id} deleted (the records stay as they are).").format(id=error_id)

    def purged(self, count: int) -> str:
        """ "Deleted 1,234 error entries."."""
        return self._n("Deleted {n} error entry.", "Deleted {n} error entries.", count)

    # ---- what results, hints and refusals say (bot.phrases), in the reader's language -----------------

    def say(self, phrase: Phrase) -> str:
        """A phrase as mrkdwn: its words in this locale, values escaped, links as Slack links."""
        return render(phrase, self.locale, escape=mrkdwn.escape, make_link=mrkdwn.link)

    def resolution(self, text: str) -> str:
        """How an error was resolved, as mrkdwn: ours in this locale, anything else as it was stored."""
        phrase = resolution_phrase(text)
        return self.say(phrase) if phrase is not None else mrkdwn.escape(text)

    def say_plain(self, phrase: Phrase) -> str:
        """A phrase as plain text (links as "label (url)")."""
        return render(phrase, self.locale)

    def skipped_explain(self, count: int) -> str:
        """What Skipped means, with how many there are."""
        return self._n(
            "{n} coupling is Skipped: it failed the same way twice, so scheduled runs leave it out until "
            "someone re-syncs it or removes the coupling.",
            "{n} couplings are Skipped: they failed the same way twice, so scheduled runs leave them out "
            "until someone re-syncs them or removes the coupling.",
            count,
        )

    def skipped_failed_on(self, moment: datetime) -> str:
        """When a Skipped coupling last failed."""
        return self._("failed {date}").format(date=self.date(moment))

    def skipped_no_entry(self, resync: str, uncouple: str) -> str:
        """A Skipped coupling whose error entry was deleted: the terminal commands still work."""
        return self._("Its error entry was deleted. In the terminal: {resync} or {uncouple}").format(
            resync=resync, uncouple=uncouple
        )

    def skipped_shown(self, shown: int, total: int) -> str:
        """How many of the Skipped couplings are listed."""
        return self._("Showing {shown} of {total}.").format(
            shown=self.number(shown), total=self.number(total)
        )

    def purge_stayed(self, stayed: int, announced: int) -> str:
        """Why fewer entries went than the confirmation counted."""
        return self._n(
            "{n} of the {announced} counted entries was seen again since the count, or was already deleted, "
            "and stayed.",
            "{n} of the {announced} counted entries were seen again since the count, or were already "
            "deleted, and stayed.",
            stayed,
            announced=self.number(announced),
        )

    def problem(self, problem: Problem) -> str:
        """What stopped a click or command, and what to do about it."""
        return self._(_PROBLEM_WORDS[problem])

    # ---- doctor -----------------------------------------------------------------------------------

    def check_title(self, check: str) -> str:
        """The title of a doctor check (bot.doctor's ids), the id itself when unknown."""
        return self._lookup(_CHECK_TITLE_WORDS, check)

    def fix(self, fix: str) -> str:
        """ "Fix: …"."""
        return self._("Fix: {fix}").format(fix=fix)

    def checks_failing(self, count: int) -> str:
        """ "2 checks need attention."."""
        return self._n("{n} check needs attention.", "{n} checks need attention.", count)

    # ---- schedule ---------------------------------------------------------------------------------

    def every(self, interval: str) -> str:
        """ "every 30m"."""
        return self._("every {interval}").format(interval=interval)

    def last_run_failed(self, reason: str) -> str:
        """ "last run failed: …"."""
        return self._("last run failed: {reason}").format(reason=reason)

    def last_run(self, result: str) -> str:
        """ "last: …" for any other result."""
        return self._("last: {result}").format(result=result)

    def next_at(self, moment: datetime) -> str:
        """ "next <date>"."""
        return self._("next {date}").format(date=self.date(moment))

    def interval_set(self, mapping: str, interval: str) -> str:
        """ "*CUSTOMER* now syncs every 1h."."""
        return self._("*{mapping}* now syncs every {interval}.").format(mapping=mapping, interval=interval)

    def paused_now(self, mapping: str) -> str:
        """The schedule of a mapping was paused."""
        return self._("⏸ *{mapping}* is paused: it does not sync on its schedule until resumed.").format(
            mapping=mapping
        )

    def resumed_now(self, mapping: str) -> str:
        """The schedule of a mapping was resumed."""
        return self._("▶️ *{mapping}* syncs on its schedule again.").format(mapping=mapping)

    # ---- modals and App Home ----------------------------------------------------------------------

    def purge_count(self, count: int, older_than_days: int | None) -> str:
        """How many entries the purge deletes."""
        if older_than_days is None:
            return self._n(
                "This deletes *{n}* error entry, open ones included.",
                "This deletes all *{n}* error entries, open ones included.",
                count,
            )
        return self._n(
            "This deletes *{n}* error entry not seen for {days} days.",
            "This deletes *{n}* error entries not seen for {days} days.",
            count,
            days=self.number(older_than_days),
        )

    def snooze_text(self, error_id: int | None) -> str:
        """What snoozing does."""
        return self._(
            "Error #{id} stays quiet until then: repeats go unnoticed, and then it opens again by itself."
        ).format(id=error_id if error_id is not None else "?")

    def snooze_options(self) -> list[tuple[str, str]]:
        """(value, label) of the snooze durations."""
        _ = self._
        return [("1h", _("1 hour")), ("4h", _("4 hours")), ("24h", _("24 hours")), ("7d", _("7 days"))]

    def couple_text(self, record: str, other_system: str) -> str:
        """What the couple modal does."""
        return self._("Couple {record} with an existing record in {system}.").format(
            record=record, system=self.system(other_system)
        )

    def couple_label(self, other_system: str) -> str:
        """Couple reference input label."""
        return self._("{system} record").format(system=self.system(other_system))

    def couple_sync_options(self) -> list[tuple[str, str]]:
        """(value, label) of the after-coupling sync choices."""
        _ = self._
        return [
            ("none", _("nothing for now")),
            ("bc", _("Business Central's values to Dataverse")),
            ("dataverse", _("Dataverse's values to Business Central")),
        ]

    def next_run(self, mapping: str, at: datetime | None, paused: bool) -> str:
        """ "CUSTOMER: <date>" / paused / not scheduled."""
        if paused:
            return self._("*{mapping}*: paused").format(mapping=mapping)
        if at is None:
            return self._("*{mapping}*: not scheduled").format(mapping=mapping)
        return self._("*{mapping}*: {date}").format(mapping=mapping, date=self.date(at))

    def updated_at(self, moment: datetime) -> str:
        """ "Updated <date>"."""
        return self._("Updated {date}").format(date=self.date(moment))


# ---- refusals of the catalogue's actions (bot.operations.kinds; NotAllowed carries the key) ---------------


def refusal_verb(key: str, locale: str | None = "en") -> str | None:
    """What only sync admins may do, as the verb phrase of a refusal ("couple records"); None: anyone may."""
    _ = gettext_for(locale).gettext
    couple, schedules, purge = _("couple records"), _("change schedules"), _("delete error entries")
    verbs: dict[str, str] = {
        "couple": couple,
        "couple_match": couple,
        "couple_create": couple,
        "couple_dependency": couple,
        "uncouple": _("remove couplings"),
        "restore_record": _("restore records"),
        "delete_record": _("delete records"),
        "delete_error": _("delete entries from the error log"),
        "purge_older_than": purge,
        "purge_all": purge,
        "sync": _("synchronize every mapping at once"),
        "run": _("start a scheduled sync by hand"),
        "schedule": schedules,
        "pause": schedules,
        "resume": schedules,
        "mapping_set": _("change mapping settings"),
    }
    return verbs.get(key)


def not_allowed(key: str, admins: Sequence[str], locale: str | None = "en") -> str:
    """ "⛔ Only sync admins may restore records. Ask @a or @b." for the catalogue action `key`."""
    _ = gettext_for(locale).gettext
    verb = refusal_verb(key, locale) or _("do this")
    if admins:
        return _("⛔ Only sync admins may {action}. Ask {admins}.").format(
            action=verb, admins=Wording(locale).either(admins)
        )
    return _("⛔ Only sync admins may {action}, and none is set up yet: ask whoever runs the bot.").format(
        action=verb
    )
