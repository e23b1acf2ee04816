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


@lru_cache(maxsize=8)
def _babel_locale(locale: str) -> Locale:
    """Babel's Locale, parsed once (parsing per number took a global lock on every message)."""
    return Locale.parse(locale)


class Wording:
    """The words of one locale; builders take one and never spell a sentence themselves."""

    def __init__(self, locale: str | None = "en") -> None:
        self.locale = normalize_locale(locale)
        translations = gettext_for(self.locale)
        self._ = translations.gettext
        self._n = translations.ngettext
        self._p = translations.pgettext

    # ---- numbers, dates, names --------------------------------------------------------------------

    def number(self, value: int) -> str:
        """A count with the locale's digit grouping."""
        return str(format_decimal(value, locale=_babel_locale(self.locale)))

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
        _ = self._
        titles: dict[str, str] = {
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
        return titles.get(category, _("Sync failed"))

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
        _ = self._
        words: dict[str, str] = {
            ErrorStatus.OPEN: _("open"),
            ErrorStatus.RESOLVED: _("resolved"),
            ErrorStatus.SNOOZED: _("snoozed"),
        }
        return words.get(status, status)

    def job_type(self, job_type: str) -> str:
        """A job type in words."""
        _ = self._
        words: dict[str, str] = {
            JobType.SYNC: _("sync"),
            JobType.COUPLING: _("coupling"),
            JobType.UNCOUPLING: _("uncoupling"),
            JobType.CLEANUP: _("cleanup"),
        }
        return words.get(job_type, job_type)

    def door(self, door: str) -> str:
        """Through which door an action came in."""
        _ = self._
        doors: dict[str, str] = {
            Door.SLACK: _("Slack"),
            Door.TERMINAL: _("terminal"),
            Door.SCHEDULE: _("schedule"),
        }
        return doors.get(door, door)

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
        return self._n("{n} occurrence", "{n} occurrences", count).format(n=self.number(count))

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
        ).format(n=self.number(count), date=self.date(last_seen))

    def repeat_fallback(self, title: str, count: int) -> str:
        """Plain text of the repeat reply."""
        return self._n(
            "{title} happened again ({n} time)", "{title} happened again ({n} times)", count
        ).format(title=title, n=self.number(count))

    # ---- buttons and confirm dialogs ----------------------------------------------------------------

    def button_resync(self) -> str:
        """Button: re-sync."""
        return self._("Re-sync")

    def button_resync_once_fixed(self) -> str:
        """Button: re-sync after fixing the setup."""
        return self._("Re-sync once fixed")

    def button_couple(self) -> str:
        """Button: couple to an existing record."""
        return self._("Couple…")

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

    def button_couple_this(self) -> str:
        """Button next to one candidate of several matches: couple the error's record to it."""
        return self._("Couple to this one")

    def button_couple_dependency(self) -> str:
        """Button: couple the related record."""
        return self._("Couple dependency")

    def button_uncouple(self) -> str:
        """Button: remove the coupling."""
        return self._("Remove coupling")

    def button_restore(self) -> str:
        """Button: recreate the deleted side."""
        return self._("Restore record")

    def button_delete_record(self) -> str:
        """Button: delete the surviving side."""
        return self._("Delete record")

    def button_keep_bc(self) -> str:
        """Button: Business Central wins the update conflict."""
        return self._("Keep Business Central's values")

    def button_keep_dataverse(self) -> str:
        """Button: Sales wins the update conflict."""
        return self._("Keep Sales' values")

    def button_snooze(self) -> str:
        """Button: snooze."""
        return self._("Snooze…")

    def button_details(self) -> str:
        """Button: details."""
        return self._("Details")

    def button_delete_entry(self) -> str:
        """Button: delete the error entry."""
        return self._("Delete entry")

    def button_more(self) -> str:
        """Button: next page."""
        return self._("More")

    def button_refresh(self) -> str:
        """Button: refresh the home tab."""
        return self._("Refresh")

    def button_open(self, system: str) -> str:
        """Link button: open the record."""
        return self._("Open in {system}").format(system=self.system(system))

    def button_purge_older(self, days: int) -> str:
        """Button: purge entries older than N days."""
        return self._n(
            "Delete entries older than {n} day", "Delete entries older than {n} days", days
        ).format(n=self.number(days))

    def button_purge_all(self) -> str:
        """Button: purge every entry."""
        return self._("Delete all entries")

    def cancel(self) -> str:
        """Deny / close."""
        return self._("Cancel")

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
        ).format(n=self.number(days))
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
        return self._n("{headline} — {n} record failed", "{headline} — {n} records failed", count).format(
            headline=headline, n=self.number(count)
        )

    def example(self, record: str) -> str:
        """ "For example: <record>"."""
        return self._("For example: {record}").format(record=record)

    def list_in_thread(self) -> str:
        """Pointer to the thread."""
        return self._("The list is in the thread.")

    def new_errors(self, count: int) -> str:
        """Digest title."""
        return self._n("{n} new sync error", "{n} new sync errors", count).format(n=self.number(count))

    def by_mapping_and_category(self) -> str:
        """Digest/summary section title."""
        return self._("By mapping and category")

    def by_cause(self) -> str:
        """Digest section title: how many errors each cause brought."""
        return self._("By cause")

    def parents_not_coupled(self) -> str:
        """The one cause of many "dependency not coupled" errors, whichever parent records they wait for."""
        return self._("Parent records are not coupled")

    def top_records(self) -> str:
        """Digest section title."""
        return self._("Most affected records")

    def page(self, page: int, pages: int) -> str:
        """ "Page 2 of 5"."""
        return self._("Page {page} of {pages}").format(page=page, pages=pages)

    def and_more(self, count: int) -> str:
        """ "… and 12 more"."""
        return self._n("… and {n} more", "… and {n} more", count).format(n=self.number(count))

    # ---- command replies ----------------------------------------------------------------------------

    def open_errors(self) -> str:
        """Title: open errors."""
        return self._("Open sync errors")

    def no_open_errors(self) -> str:
        """Nothing open."""
        return self._("No open errors. 🎉")

    def open_error_count(self, count: int) -> str:
        """ "12 open errors"."""
        return self._n("{n} open error", "{n} open errors", count).format(n=self.number(count))

    def last_jobs(self) -> str:
        """Title: last job per mapping."""
        return self._("Last jobs")

    def no_jobs(self) -> str:
        """No job log yet."""
        return self._("No synchronization has run yet.")

    def jobs_title(self) -> str:
        """Title of the status reply."""
        return self._("Synchronization jobs")

    def job_started(self, moment: datetime) -> str:
        """ "started <date>"."""
        return self._("started {date}").format(date=self.date(moment))

    def job_running(self) -> str:
        """A job without finish time."""
        return self._("running")

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

    def durations_hint(self) -> str:
        """How durations are written."""
        return self._("Durations look like 30m, 12h, 7d or 2w. References look like customer:10000.")

    def usage(self, usage: str) -> str:
        """ "Usage: `…`"."""
        return self._("Usage: {usage}").format(usage=f"`{usage}`")

    def errors_title(self) -> str:
        """Title of the list reply."""
        return self._("Sync errors")

    def no_errors_match(self) -> str:
        """Empty list."""
        return self._("No errors match.")

    def more_below(self) -> str:
        """There is a next page."""
        return self._("Older errors are on the next page.")

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

    def no_full_text(self) -> str:
        """The error has no detail text."""
        return self._("No further text.")

    def audit_title(self) -> str:
        """Title of the audit reply."""
        return self._("Audit log")

    def nothing_recorded(self) -> str:
        """Empty audit log."""
        return self._("Nothing recorded yet.")

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

    def already_open(self) -> str:
        """Nothing was done to the error yet."""
        return self._("This error is still open.")

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

    def answer_later(self) -> str:
        """The asker hears back in this conversation."""
        return self._("I will answer here when it is done.")

    def answer_on_messages(self) -> str:
        """Many errors at once: their channel messages tell."""
        return self._("Each error's message changes when its work is done.")

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
        return self._n("Deleted {n} error entry.", "Deleted {n} error entries.", count).format(
            n=self.number(count)
        )

    # ---- hints in the reader's language (the stored hint is English) ----------------------------------

    def hint(self, category: str, facts: dict[str, object]) -> str | None:
        """What to do about an error, from its category and facts; None when only the stored text fits."""
        _ = self._
        code = mrkdwn.escape(str(facts.get("currency_code") or facts.get("dependency_key") or ""))
        if category == Category.EXCHANGE_RATE:
            return _(
                "An admin must add an exchange rate for {code} in Business Central (Currencies page, "
                "Exch. Rates), then Re-sync the currency and the records that use it."
            ).format(code=code or "?")
        if category == Category.PERMISSIONS:
            if facts.get("system") == "business_central":
                return _(
                    "An admin must give the bot's app a permission set that covers this table on Business "
                    "Central's Microsoft Entra Applications page, then Re-sync."
                )
            privilege = mrkdwn.escape(str(facts.get("privilege") or ""))
            if privilege:
                return _(
                    "An admin must add the {privilege} privilege to a security role of the integration user "
                    "in Dataverse (the Business Central Dataverse Integration role), then Re-sync."
                ).format(privilege=privilege)
            return None
        if category == Category.CREDENTIALS:
            code = mrkdwn.escape(str(facts.get("aadsts") or ""))
            return self._credentials_hint(code, str(facts.get("system") or ""))
        if category == Category.DEPENDENCY_NOT_COUPLED:
            record = self._dependency(facts)
            if facts.get("missing_reference"):
                where = self.system(str(facts.get("missing_in") or ""))
                return _(
                    "This record is fine; {record}, which it refers to, is missing in {app}. Re-create or "
                    "couple {record} first (Couple dependency below), then Re-sync this record."
                ).format(record=record, app=where)
            return _("Couple {record} first (Couple dependency below), then Re-sync this record.").format(
                record=record
            )
        if category == Category.DELETED_RECORD:
            deleted = self.system(str(facts.get("deleted_side") or ""))
            return _(
                "The coupled record was deleted in {app}. Restore it, delete the surviving one, or remove "
                "the coupling (buttons below, or Coupled Data Synchronization Errors in Business Central)."
            ).format(app=deleted)
        if category == Category.UPDATE_CONFLICT:
            if facts.get("stale_etag"):
                return _("The record changed while it was being synchronized. Re-sync it.")
            return _(
                "Both apps changed this record since the last sync. Whoever edited it decides which side "
                "is right and keeps those values, or an admin sets Resolve Update Conflicts on the mapping "
                "(Integration Table Mappings)."
            )
        if category == Category.ADMIN_INTEGRATION_USER:
            return _(
                "An admin must remove the System Administrator role from the integration user in Dataverse "
                "and give it the Business Central Dataverse Integration role instead."
            )
        if category == Category.ADMIN_MODE:
            return _(
                "The Dataverse environment is in administration mode. An admin must turn it off in the Power "
                "Platform admin centre; the next run retries."
            )
        if category == Category.SEVERAL_MATCHES:
            return _(
                "Several records in the other app match this one, so nothing was created. Someone who knows "
                "both apps couples it to the right one (Couple to this one), or makes the others differ, "
                "then Re-sync."
            )
        return None

    def _dependency(self, facts: dict[str, object]) -> str:
        table = self.table(str(facts.get("dependency_table") or ""))
        key = str(facts.get("dependency_key") or "")
        label = f"{table} {key}".strip()
        url = facts.get("dependency_url")
        return mrkdwn.link(str(url), label) if isinstance(url, str) and url else label

    def _credentials_hint(self, code: str, system: str) -> str:
        _ = self._
        if code in ("AADSTS7000215", "AADSTS7000222"):
            return _(
                "Sign-in refused ({code}): the client secret is wrong or has expired. An admin must add a "
                "new client secret to the app registration in Microsoft Entra and put its Value in "
                "AZURE_CLIENT_SECRET."
            ).format(code=code)
        if code == "AADSTS65001":
            return _(
                "Sign-in refused ({code}): the app registration has no admin consent. An admin must grant "
                "admin consent to its API permissions in Microsoft Entra."
            ).format(code=code)
        if code in ("AADSTS700016", "AADSTS90002", "AADSTS90072", "AADSTS50034"):
            return _(
                "Sign-in refused ({code}): the app or the tenant was not found. An admin must check "
                "AZURE_TENANT_ID and AZURE_CLIENT_ID against the app registration."
            ).format(code=code)
        if code in ("AADSTS50055", "AADSTS50126", "AADSTS50053", "AADSTS50076", "AADSTS50079", "AADSTS50057"):
            return _(
                "Sign-in refused ({code}). The bot signs in as an app, not as a user: an admin must set "
                "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET to the app registration's client id and secret."
            ).format(code=code)
        if system == "dataverse":
            return _(
                "Dataverse refused the bot's token: the application user for AZURE_CLIENT_ID is missing or "
                "disabled. An admin must add or enable it in the Power Platform admin centre with the "
                "Business Central Dataverse Integration role."
            )
        if system == "business_central":
            return _(
                "Business Central refused the bot's token. An admin must add AZURE_CLIENT_ID on the "
                "Microsoft Entra Applications page, set it to Enabled and give it permission sets."
            )
        return _(
            "Sign-in refused. An admin must check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET "
            "against the app registration in Microsoft Entra."
        )

    def skipped_title(self) -> str:
        """Business Central's caption of the Skipped couplings' page."""
        return self._("Coupled Data Synchronization Errors")

    def skipped_explain(self, count: int) -> str:
        """What Skipped means, with how many there are."""
        return self._n(
            "{n} coupling is Skipped: it failed the same way twice, so scheduled runs leave it out until "
            "someone re-syncs it or removes the coupling.",
            "{n} couplings are Skipped: they failed the same way twice, so scheduled runs leave them out "
            "until someone re-syncs them or removes the coupling.",
            count,
        ).format(n=self.number(count))

    def no_skipped(self) -> str:
        """No Skipped couplings."""
        return self._("No coupling is Skipped.")

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
        ).format(n=self.number(stayed), announced=self.number(announced))

    def problem(self, problem: Problem) -> str:
        """What stopped a click or command, and what to do about it."""
        _ = self._
        words: dict[Problem, str] = {
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
            Problem.WHOLE_DAYS: _(
                "In Slack, --older-than takes whole days (like 7d); the terminal takes hours too."
            ),
            Problem.DIALOG_NAMES_NO_ERROR: _("This dialog names no error; close it."),
        }
        return words[problem]

    # ---- doctor -----------------------------------------------------------------------------------

    def doctor_working(self) -> str:
        """The checks started."""
        return self._("🩺 Checking the integration setup… I will answer here.")

    def doctor_title(self) -> str:
        """Title of the doctor report."""
        return self._("Integration setup")

    def check_title(self, check: str) -> str:
        """The title of a doctor check (bot.doctor's ids), the id itself when unknown."""
        _ = self._
        titles = {
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
        return titles.get(check, check)

    def fix(self, fix: str) -> str:
        """ "Fix: …"."""
        return self._("Fix: {fix}").format(fix=fix)

    def checks_passed(self) -> str:
        """Every check passed."""
        return self._("All checks passed.")

    def checks_failing(self, count: int) -> str:
        """ "2 checks need attention."."""
        return self._n("{n} check needs attention.", "{n} checks need attention.", count).format(
            n=self.number(count)
        )

    # ---- schedule ---------------------------------------------------------------------------------

    def schedule_title(self) -> str:
        """Title of the schedule reply."""
        return self._("Scheduled syncs")

    def every(self, interval: str) -> str:
        """ "every 30m"."""
        return self._("every {interval}").format(interval=interval)

    def schedule_disabled(self) -> str:
        """The mapping is switched off."""
        return self._("disabled")

    def schedule_paused(self) -> str:
        """The mapping's schedule is paused."""
        return self._("⏸ paused")

    def last_run_ok(self) -> str:
        """The last scheduled run worked."""
        return self._("last run ok")

    def last_run_failed(self, reason: str) -> str:
        """ "last run failed: …"."""
        return self._("last run failed: {reason}").format(reason=reason)

    def running_now(self) -> str:
        """A scheduled run is going on."""
        return self._("running now")

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

    def purge_title(self) -> str:
        """Purge modal title (≤ 24 characters)."""
        return self._("Delete entries")

    def purge_submit(self) -> str:
        """Purge modal submit (≤ 24 characters)."""
        return self._("Delete")

    def close(self) -> str:
        """Modal close (≤ 24 characters)."""
        return self._("Close")

    def purge_count(self, count: int, older_than_days: int | None) -> str:
        """How many entries the purge deletes."""
        if older_than_days is None:
            return self._n(
                "This deletes *{n}* error entry, open ones included.",
                "This deletes all *{n}* error entries, open ones included.",
                count,
            ).format(n=self.number(count))
        return self._n(
            "This deletes *{n}* error entry not seen for {days} days.",
            "This deletes *{n}* error entries not seen for {days} days.",
            count,
        ).format(n=self.number(count), days=self.number(older_than_days))

    def cannot_undo(self) -> str:
        """Warning line."""
        return self._("⚠️ It cannot be undone.")

    def nothing_to_delete(self) -> str:
        """Purge of nothing."""
        return self._("There is nothing to delete.")

    def snooze_title(self) -> str:
        """Snooze modal title."""
        return self._("Snooze error")

    def snooze_submit(self) -> str:
        """Snooze modal submit."""
        return self._("Snooze")

    def snooze_label(self) -> str:
        """Snooze input label."""
        return self._("For how long?")

    def snooze_text(self, error_id: int | None) -> str:
        """What snoozing does."""
        return self._(
            "Error #{id} stays quiet until then: repeats go unnoticed, and then it opens again by itself."
        ).format(id=error_id if error_id is not None else "?")

    def snooze_options(self) -> list[tuple[str, str]]:
        """(value, label) of the snooze durations."""
        _ = self._
        return [("1h", _("1 hour")), ("4h", _("4 hours")), ("24h", _("24 hours")), ("7d", _("7 days"))]

    def couple_title(self) -> str:
        """Couple modal title."""
        return self._("Couple records")

    def couple_submit(self) -> str:
        """Couple modal submit."""
        return self._("Couple")

    def couple_text(self, record: str, other_system: str) -> str:
        """What the couple modal does."""
        return self._("Couple {record} with an existing record in {system}.").format(
            record=record, system=self.system(other_system)
        )

    def couple_label(self, other_system: str) -> str:
        """Couple reference input label."""
        return self._("{system} record").format(system=self.system(other_system))

    def couple_placeholder(self) -> str:
        """Couple reference placeholder."""
        return self._("account:6f1c… or customer:10000")

    def couple_hint(self) -> str:
        """How a reference is written."""
        return self._("A table and a number or GUID, like customer:10000 or account:6f1c…")

    def couple_sync_label(self) -> str:
        """Couple sync select label."""
        return self._("After coupling, copy")

    def couple_sync_options(self) -> list[tuple[str, str]]:
        """(value, label) of the after-coupling sync choices."""
        _ = self._
        return [
            ("none", _("nothing for now")),
            ("bc", _("Business Central's values to Dataverse")),
            ("dataverse", _("Dataverse's values to Business Central")),
        ]

    def home_title(self) -> str:
        """App Home header."""
        return self._("Business Central ↔ Sales synchronization")

    def next_runs(self) -> str:
        """Title: next scheduled runs."""
        return self._("Next runs")

    def next_run(self, mapping: str, at: datetime | None, paused: bool) -> str:
        """ "CUSTOMER: <date>" / paused / not scheduled."""
        if paused:
            return self._("*{mapping}*: paused").format(mapping=mapping)
        if at is None:
            return self._("*{mapping}*: not scheduled").format(mapping=mapping)
        return self._("*{mapping}*: {date}").format(mapping=mapping, date=self.date(at))

    def no_schedule(self) -> str:
        """No scheduled jobs."""
        return self._("Nothing is scheduled.")

    def quick_actions(self) -> str:
        """Title: quick actions."""
        return self._("Quick actions")

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
