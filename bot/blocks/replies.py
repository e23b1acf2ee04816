"""Replies to `/sync-errors` and to clicks: summary, help, usage errors, status, audit, refusals, results."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.blocks import kit, mrkdwn
from bot.blocks.jobs import job_line, last_job_per_mapping, purge_buttons
from bot.blocks.message import Message
from bot.blocks.notifications import count_lines, state_line
from bot.blocks.wording import Problem, Word, Wording
from bot.ids import COMMAND, BlockId
from bot.phrases import Phrase
from storage.models import AuditEntry, ErrorStatus, SyncError, SyncJob

MAX_LINES = 40
AUDIT_DETAIL_CHARS = 150
MAX_ADMINS_NAMED = 10


def lines_blocks(lines: Sequence[str], w: Wording, *, head: Sequence[Block]) -> list[Block]:
    """Head blocks plus the lines packed into sections, dropping lines from the end until they fit."""
    shown = min(len(lines), MAX_LINES)
    while True:
        rest = len(lines) - shown
        blocks = [*head, *kit.pack_lines([*lines[:shown], *([w.and_more(rest)] if rest else [])])]
        if kit.fits(blocks) or shown == 0:
            return blocks
        shown -= 1


def titled_lines(title: Word, lines: Sequence[str], w: Wording) -> Message:
    """A header and lines (as many as fit), the header also the notification text."""
    return Message(text=w.word(title), blocks=lines_blocks(lines, w, head=[kit.header(w.word(title))]))


def build_summary(
    counts: Sequence[tuple[str, str, int]],
    jobs: Sequence[SyncJob],
    *,
    locale: str = "en",
    retention_days: int = 7,
) -> Message:
    """Open errors by mapping and category, the last job per mapping, and the two purge buttons."""
    w = Wording(locale)
    total = sum(count for _mapping, _category, count in counts)
    blocks: list[Block] = [kit.header(w.word(Word.OPEN_ERRORS))]
    if total:
        blocks.append(kit.section(f"*{w.open_error_count(total)}*\n" + "\n".join(count_lines(counts, w))))
    else:
        blocks.append(kit.section(w.word(Word.NO_OPEN_ERRORS)))
    latest = last_job_per_mapping(jobs)
    job_lines = [job_line(job, w) for job in latest] or [w.word(Word.NO_JOBS)]
    blocks += kit.pack_lines([f"*{w.word(Word.LAST_JOBS)}*", *job_lines])
    blocks.append(kit.actions(purge_buttons(w, retention_days), block_id=BlockId.ACTIONS))
    blocks.append(kit.context(w.help_hint(COMMAND)))
    text = w.open_error_count(total) if total else w.word(Word.NO_OPEN_ERRORS)
    return Message(text=text, blocks=blocks)


def build_help(*, locale: str = "en", unknown_word: str | None = None, topic: str | None = None) -> Message:
    """Every subcommand with its usage and what it does (one subcommand's when `topic` is given)."""
    w = Wording(locale)
    head: list[Block] = []
    if unknown_word is not None:
        head.append(kit.section(f"🤔 {mrkdwn.escape(w.unknown_word(mrkdwn.cut(unknown_word, 60)))}"))
    head.append(kit.header(w.help_title(COMMAND)))
    lines = [
        f"`{mrkdwn.escape(f'{COMMAND} {syntax}'.strip())}` — {description}"
        for syntax, description in w.help_lines()
        if topic is None or syntax.split(" ", 1)[0] == topic
    ]
    blocks = head + list(kit.pack_lines(lines)) + [kit.context(w.word(Word.DURATIONS_HINT))]
    return Message(text=w.help_title(COMMAND), blocks=blocks)


def build_usage_error(problem: str | Problem, usage: str, *, locale: str = "en") -> Message:
    """What was wrong with the words (the parser's text, or one of ours), and the subcommand's usage line."""
    w = Wording(locale)
    text = f"⚠️ {w.problem(problem) if isinstance(problem, Problem) else mrkdwn.escape(problem)}"
    usage_line = w.usage(mrkdwn.escape(usage))
    return Message(text=f"{text} — {usage_line}", blocks=[kit.section(f"{text}\n{usage_line}")])


def build_status(jobs: Sequence[SyncJob], *, locale: str = "en") -> Message:
    """The job log: latest jobs first, with their counters."""
    w = Wording(locale)
    ordered = sorted(jobs, key=lambda job: job.started_at, reverse=True)
    return titled_lines(Word.JOBS_TITLE, [job_line(job, w) for job in ordered] or [w.word(Word.NO_JOBS)], w)


def audit_line(entry: AuditEntry, w: Wording) -> str:
    """ "<date> · @x · resync · error:17 · ok (Slack) — detail"."""
    parts = [w.date(entry.at), mrkdwn.user(entry.actor), f"`{mrkdwn.escape(entry.action)}`"]
    if entry.target:
        parts.append(mrkdwn.escape(entry.target))
    parts.append(f"*{w.result(entry.result)}* ({w.door(entry.door)})")
    line = " · ".join(parts)
    if entry.detail.strip():
        line += f" — {mrkdwn.escape(mrkdwn.cut(mrkdwn.one_line(entry.detail), AUDIT_DETAIL_CHARS))}"
    return line


def build_audit(entries: Sequence[AuditEntry], *, locale: str = "en") -> Message:
    """Who did what, when, through which door, with which result (newest first)."""
    w = Wording(locale)
    ordered = sorted(entries, key=lambda entry: entry.at, reverse=True)
    lines = [audit_line(entry, w) for entry in ordered] or [w.word(Word.NOTHING_RECORDED)]
    return titled_lines(Word.AUDIT_TITLE, lines, w)


def build_refusal(action: str, *, admins: Sequence[str], locale: str = "en") -> Message:
    """ "⛔ Only sync admins may restore records. Ask @a or @b." (action: an AdminAction)."""
    w = Wording(locale)
    text = w.refusal(action, [mrkdwn.user(admin) for admin in admins[:MAX_ADMINS_NAMED]])
    return Message(text=text, blocks=[kit.section(text)])


def build_already_done(done: SyncError | AuditEntry, *, locale: str = "en") -> Message:
    """A second click: who already did it, and when."""
    w = Wording(locale)
    if isinstance(done, AuditEntry):
        text = w.already(done.action, mrkdwn.user(done.actor), done.at)
    elif done.status == ErrorStatus.SNOOZED:
        by = mrkdwn.user(done.resolved_by) if done.resolved_by else None
        text = w.already_snoozed(done.snoozed_until, by)
    elif done.status == ErrorStatus.RESOLVED:
        text = state_line(done, w) or w.word(Word.ALREADY_OPEN)
    else:
        text = w.word(Word.ALREADY_OPEN)
    return Message(text=text, blocks=[kit.section(text)])


def build_action_result(ok: bool, text: str | Phrase, *, locale: str = "en") -> Message:
    """The answer to a click or command: ✅ done, or ⚠️ what went wrong (a phrase, or mrkdwn we wrote)."""
    w = Wording(locale)
    words = w.say(text) if isinstance(text, Phrase) else text
    line = f"✅ {words}" if ok else w.failed(words)
    return Message(text=line, blocks=[kit.section(line)])
