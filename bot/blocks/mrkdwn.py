"""mrkdwn helpers: escaping untrusted text, links, mentions, local-time date tokens, cutting."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats specially (&, <, >); nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """Shorten text to at most `limit` characters, ending with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


def one_line(text: str) -> str:
    """Collapse newlines and runs of whitespace into single spaces."""
    return " ".join(text.split())


def safe_url(url: str) -> str:
    """Make a URL safe inside <url|label>: Slack ends the URL at '|' or '>'."""
    return url.strip().replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")


def link(url: str | None, label: str) -> str:
    """A mrkdwn link `<url|label>` with the label escaped; the escaped label alone when there is no URL."""
    label = escape(label).replace("|", "¦")
    if not url:
        return label
    return f"<{safe_url(url)}|{label}>"


def user(actor: str | None) -> str:
    """A mention for a Slack user id, else the escaped name (terminal users, the schedule)."""
    if not actor:
        return "?"
    if _USER_ID.match(actor):
        return f"<@{actor}>"
    return escape(actor)


def utc_fallback(moment: datetime) -> str:
    """The UTC text shown where Slack cannot render a date token (notifications, old clients)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def date(moment: datetime, pattern: str) -> str:
    """A `<!date^…>` token: each reader sees `moment` in their own time zone, formatted by `pattern`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"<!date^{int(moment.timestamp())}^{pattern}|{utc_fallback(moment)}>"


def quote(text: str) -> str:
    """Quote (mrkdwn blockquote) every line of an already escaped text."""
    return "\n".join(f">{line}" for line in text.splitlines() or [""])
