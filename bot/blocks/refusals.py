"""The answer to an action only sync admins may take (bot.operations.base.NotAllowed), from its key."""

from __future__ import annotations

from collections.abc import Sequence

from bot.blocks import kit, mrkdwn
from bot.blocks.message import Message
from bot.blocks.replies import MAX_ADMINS_NAMED
from bot.blocks.wording import not_allowed


def build_not_allowed(key: str, *, admins: Sequence[str], locale: str = "en") -> Message:
    """ "⛔ Only sync admins may restore records. Ask @a or @b." (key: a bot.ids.ActionKey)."""
    text = not_allowed(key, [mrkdwn.user(admin) for admin in admins[:MAX_ADMINS_NAMED]], locale)
    return Message(text=text, blocks=[kit.section(text)])
