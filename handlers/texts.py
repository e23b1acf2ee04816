"""The few sentences the handlers say that bot.blocks has no builder for yet (queued work, doctor, schedule).

Each returns a bot.blocks Message (through build_action_result / build_text), translated with the bot's
gettext catalogs where they have the sentence; untrusted text is escaped here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.blocks import Message, build_action_result, build_text, mrkdwn
from bot.blocks.wording import Wording
from bot.commands import format_duration
from bot.doctor import CheckResult
from bot.i18n import gettext_for
from bot.operations.requests import AlreadyQueued, Queued, target_error_id
from bot.operations.schedule import ScheduleEntry

_WORK_NOUNS: dict[str, Callable[[Callable[[str], str]], str]] = {
    "resync": lambda _: _("Re-sync"),
    "resync_failed": lambda _: _("Re-sync of failed records"),
    "couple": lambda _: _("Coupling"),
    "couple_match": lambda _: _("Coupling by match"),
    "couple_dependency": lambda _: _("Coupling of the missing dependency"),
    "uncouple": lambda _: _("Removing the coupling"),
    "restore_record": lambda _: _("Restoring the record"),
    "delete_record": lambda _: _("Deleting the record"),
    "keep_bc": lambda _: _("Keeping Business Central's values"),
    "keep_dataverse": lambda _: _("Keeping Dataverse's values"),
    "sync": lambda _: _("Synchronization"),
    "run": lambda _: _("Synchronization"),
}


def _gettext(locale: str) -> Callable[[str], str]:
    return gettext_for(locale).gettext


def target_label(target: str) -> str:
    """ "#17" for an error target, else the escaped target ("mapping:CUSTOMER")."""
    error_id = target_error_id(target)
    if error_id is not None:
        return f"#{error_id}"
    return f"`{mrkdwn.escape(mrkdwn.cut(target, 120))}`"


def work_noun(kind: str, locale: str) -> str:
    """What the work is, as a noun phrase ("Re-sync")."""
    _ = _gettext(locale)
    noun = _WORK_NOUNS.get(kind)
    return noun(_) if noun else mrkdwn.escape(kind)


def queued(outcome: Queued, *, locale: str, answer_later: bool = True) -> Message:
    """ "⏳ Queued: Re-sync of #17. I will answer here when it is done." """
    _ = _gettext(locale)
    line = _("⏳ Queued: {work} of {target}.").format(
        work=work_noun(outcome.kind, locale), target=target_label(outcome.target)
    )
    if answer_later:
        line += " " + _("I will answer here when it is done.")
    else:
        line += " " + _("Each error's message changes when its work is done.")
    return build_text(line)


def already_queued(outcome: AlreadyQueued, *, locale: str) -> Message:
    """ "⏳ Re-sync of #17 is already queued by @x (<date>); nothing more to do." """
    _ = _gettext(locale)
    who = mrkdwn.user(outcome.requested_by)
    when = Wording(locale).date(outcome.requested_at)
    template = (
        _("⏳ {work} of {target} is already running, asked for by {user} ({date}).")
        if outcome.running
        else _("⏳ {work} of {target} is already queued by {user} ({date}).")
    )
    line = template.format(
        work=work_noun(outcome.kind, locale), target=target_label(outcome.target), user=who, date=when
    )
    return build_text(line)


def done(text: str, *, locale: str) -> Message:
    """ "✅ …" for DB-only actions done right away (`text` is mrkdwn we wrote)."""
    return build_action_result(True, text, locale=locale)


def failed(problem: str, *, locale: str) -> Message:
    """ "⚠️ That did not work: …" with an untrusted reason escaped."""
    return build_action_result(False, mrkdwn.escape(problem), locale=locale)


def snoozed(error_id: int, until: datetime | None, *, locale: str) -> Message:
    """ "✅ #17: 😴 Snoozed until <date>"."""
    return done(f"#{error_id}: {Wording(locale).snoozed(until, None)}", locale=locale)


def entry_deleted(error_id: int, *, locale: str) -> Message:
    """ "✅ Entry #17 deleted." """
    _ = _gettext(locale)
    return done(_("Entry #{id} deleted (the records stay as they are).").format(id=error_id), locale=locale)


def purged(deleted: int, *, locale: str) -> Message:
    """ "✅ Deleted 1,234 error entries." """
    _ = _gettext(locale)
    w = Wording(locale)
    return done(_("Deleted {count} error entries.").format(count=w.number(deleted)), locale=locale)


def doctor_working(*, locale: str) -> Message:
    """ "🩺 Checking the integration setup…" """
    return build_text(_gettext(locale)("🩺 Checking the integration setup… I will answer here."))


def doctor_results(results: Sequence[CheckResult], titles: dict[str, str], *, locale: str) -> Message:
    """One line per doctor check: ✅/❌, its title, what was found and, when failing, the fix."""
    _ = _gettext(locale)
    lines = [_("*Integration setup*")]
    for result in results:
        title = titles.get(result.check, result.check)
        line = f"{'✅' if result.ok else '❌'} *{mrkdwn.escape(title)}* — {mrkdwn.escape(result.detail)}"
        if not result.ok and result.fix:
            line += "\n      " + _("Fix: {fix}").format(fix=mrkdwn.escape(result.fix))
        lines.append(line)
    failing = sum(1 for result in results if not result.ok)
    lines.append(
        _("All checks passed.")
        if not failing
        else _("{count} check(s) need attention.").format(count=failing)
    )
    return build_text("\n".join(lines))


def schedule_lines(entries: Sequence[ScheduleEntry], *, locale: str) -> Message:
    """The scheduled syncs: mapping, interval, paused or disabled, last result, next run."""
    _ = _gettext(locale)
    w = Wording(locale)
    lines = [_("*Scheduled syncs*")]
    for entry in entries:
        parts = [f"*{mrkdwn.escape(entry.mapping)}*"]
        parts.append(
            _("every {interval}").format(interval=format_duration(timedelta(minutes=entry.interval_minutes)))
        )
        if not entry.enabled:
            parts.append(_("disabled"))
        elif entry.paused:
            parts.append(_("⏸ paused"))
        if entry.last_result:
            parts.append(_("last: {result}").format(result=mrkdwn.escape(mrkdwn.cut(entry.last_result, 200))))
        if entry.next_run_at is not None:
            parts.append(_("next {date}").format(date=w.date(entry.next_run_at)))
        lines.append(" · ".join(parts))
    if len(lines) == 1:
        lines.append(w.no_schedule())
    return build_text("\n".join(lines))


def schedule_changed(text: str, *, locale: str) -> Message:
    """ "✅ CUSTOMER now syncs every 1h." (`text` already escaped by the caller)."""
    return done(text, locale=locale)
