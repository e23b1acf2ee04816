"""Who is asking: the Actor (admin from SYNC_ADMINS, never from a payload) and their Slack locale (cached)."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import DEFAULT_LOCALE, normalize_locale
from bot.operations.base import Actor
from bot.services import Services
from storage.models import Door

log = logging.getLogger(__name__)

LOCALE_TTL_SECONDS = 3600.0
LOCALE_CACHE_SIZE = 5000


def actor_for(services: Services, user_id: str) -> Actor:
    """The Slack user as an Actor; whether they are an admin comes from SYNC_ADMINS."""
    return Actor(id=user_id, door=Door.SLACK, is_admin=services.is_admin(user_id))


class LocaleCache:
    """users.info(include_locale) answers per workspace client and user, kept for a while."""

    def __init__(self, ttl: float = LOCALE_TTL_SECONDS) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, str]] = {}

    def locale(self, client: WebClient, user_id: str) -> str:
        """Our locale (en, cs, nl) for a Slack user; English when Slack does not say or cannot be asked."""
        key = (client.base_url, user_id)
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        locale = _ask_slack(client, user_id)
        with self._lock:
            if len(self._entries) >= LOCALE_CACHE_SIZE:
                self._entries.clear()
            self._entries[key] = (now, locale)
        return locale

    def cached(self, client: WebClient, user_id: str) -> str | None:
        """The cached locale of a user, or None when Slack would have to be asked (no call is made)."""
        with self._lock:
            cached = self._entries.get((client.base_url, user_id))
        if cached is None or time.monotonic() - cached[0] >= self._ttl:
            return None
        return cached[1]

    def forget(self) -> None:
        """Drop every cached answer."""
        with self._lock:
            self._entries.clear()


def _ask_slack(client: WebClient, user_id: str) -> str:
    if not user_id:
        return DEFAULT_LOCALE
    try:
        response = client.users_info(user=user_id, include_locale=True)
    except SlackApiError as exc:
        log.info("users.info for %s failed (%s); answering in English", user_id, exc.response.get("error"))
        return DEFAULT_LOCALE
    except Exception as exc:  # noqa: BLE001 - Slack unreachable: English is a fine answer
        log.info("users.info for %s failed (%s); answering in English", user_id, exc)
        return DEFAULT_LOCALE
    user = response.get("user") or {}
    return normalize_locale(user.get("locale") if isinstance(user, dict) else None)


LOCALES = LocaleCache()


def locale_for(client: WebClient, user_id: str) -> str:
    """The user's locale from the shared cache."""
    return LOCALES.locale(client, user_id)
