"""Commands that only read: the summary, help, the error list and one error, the job log, the audit trail."""

from __future__ import annotations

from bot.blocks import (
    Message,
    build_audit,
    build_error_details,
    build_error_list,
    build_help,
    build_skipped_list,
    build_status,
    build_summary,
)
from bot.blocks.kit import fits
from bot.blocks.listing import MAX_LIST_ITEMS
from bot.commands import Audit, Help, ListErrors, ListSkipped, ShowError, Status, Summary, format_command
from bot.operations import error_entries, reports
from handlers.request import SlackRequest
from storage.models import ErrorStatus


def summary(_command: Summary, request: SlackRequest) -> None:
    """No words: open errors by mapping and category, the last jobs, the purge buttons, then the help."""
    overview = reports.overview(request.db)
    retention = request.services.settings.retention_days
    message = build_summary(overview.counts, overview.jobs, locale=request.locale, retention_days=retention)
    help_message = build_help(locale=request.locale)
    both = [*message.blocks, *help_message.blocks]
    request.reply(Message(text=message.text, blocks=both) if fits(both) else message)


def help_(command: Help, request: SlackRequest) -> None:
    """The help (of one subcommand), saying which word was not understood."""
    request.reply(build_help(locale=request.locale, unknown_word=command.unknown_word, topic=command.topic))


def list_errors(command: ListErrors, request: SlackRequest) -> None:
    """A page of errors, newest first, with a "More" button carrying the cursor and the words."""
    request.reply(error_list(command, request, before_id=None))


def error_list(command: ListErrors, request: SlackRequest, *, before_id: int | None) -> Message:
    """The page of `command` after the cursor (shared with the "More" button)."""
    page = reports.error_page(
        request.db,
        status=None if command.status == "all" else ErrorStatus(command.status),
        mapping=command.mapping,
        category=command.category,
        limit=min(command.limit, MAX_LIST_ITEMS),
        before_id=before_id,
    )
    return build_error_list(
        page.errors, next_before_id=page.next_before_id, locale=request.locale, query=format_command(command)
    )


def skipped(command: ListSkipped, request: SlackRequest) -> None:
    """The Skipped couplings, each with Re-sync and Remove coupling."""
    found = reports.skipped(request.db, mapping=command.mapping)
    request.reply(build_skipped_list(found.items, found.total, locale=request.locale))


def show(command: ShowError, request: SlackRequest) -> None:
    """One error in full."""
    error = error_entries.load_error(request.db, error_id=command.error_id)
    request.reply(build_error_details(error, locale=request.locale))


def status(_command: Status, request: SlackRequest) -> None:
    """The job log, newest first."""
    request.reply(build_status(reports.recent_jobs(request.db), locale=request.locale))


def audit(command: Audit, request: SlackRequest) -> None:
    """Who did what (to one error, or recently)."""
    entries = error_entries.audit_trail(request.db, error_id=command.error_id)
    request.reply(build_audit(entries, locale=request.locale))
