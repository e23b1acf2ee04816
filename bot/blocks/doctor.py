"""The doctor in Slack: "checking…", then one line per check with what was found and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block

from bot.blocks import kit, mrkdwn
from bot.blocks.message import MAX_MESSAGE_BLOCKS, Message
from bot.blocks.wording import Word, Wording
from bot.phrases import Phrase

if TYPE_CHECKING:
    from bot.doctor.result import CheckResult

DETAIL_CHARS = 600
FIX_CHARS = 900


def build_doctor_working(*, locale: str = "en") -> Message:
    """ "🩺 Checking the integration setup… I will answer here."."""
    text = Wording(locale).word(Word.DOCTOR_WORKING)
    return Message(text=text, blocks=[kit.section(text)])


def check_line(result: CheckResult, w: Wording) -> str:
    """ "✅ *Title* — what was found", and on failure the fix on the next line (found texts escaped)."""
    title = mrkdwn.escape(w.check_title(result.check))
    detail = mrkdwn.cut(_words(result.found, w), DETAIL_CHARS)
    line = f"{'✅' if result.ok else '❌'} *{title}* — {detail}"
    if not result.ok and result.fix:
        line += "\n      " + w.fix(mrkdwn.cut(_words(result.fixed_by, w), FIX_CHARS))
    return line


def _words(said: Phrase | str, w: Wording) -> str:
    """A phrase in the reader's words (links as Slack links), or a found text escaped."""
    return w.say(said) if isinstance(said, Phrase) else mrkdwn.escape(said)


def build_doctor_report(results: Sequence[CheckResult], *, locale: str = "en") -> Message:
    """Title, one line per check (✅/❌, title, finding, fix), and how many need attention."""
    w = Wording(locale)
    failing = sum(1 for result in results if not result.ok)
    verdict = w.checks_failing(failing) if failing else w.word(Word.CHECKS_PASSED)
    lines = [check_line(result, w) for result in results]
    blocks: list[Block] = [kit.header(w.word(Word.DOCTOR_TITLE)), *kit.pack_lines(lines)]
    blocks = blocks[: MAX_MESSAGE_BLOCKS - 1]
    while len(blocks) > 1 and not kit.fits([*blocks, kit.context(verdict)]):
        blocks.pop()
    blocks.append(kit.context(verdict))
    return Message(text=f"{w.word(Word.DOCTOR_TITLE)}: {verdict}", blocks=blocks)
