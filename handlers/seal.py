"""Sealed modal metadata: what a modal was opened for, signed for the person it was opened for.

Slack hands `private_metadata` back at submit as the client sends it, so a forged submission could name any
error. A sealed value carries an HMAC over (purpose, value, user) keyed by the app's signing secret; at submit
it is accepted only for the same purpose and the same user, otherwise the submission changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac

SEPARATOR = "~"
MAC_CHARS = 32


def _mac(key: str, purpose: str, value: str, user_id: str) -> str:
    message = f"{purpose}|{value}|{user_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:MAC_CHARS]


def seal(key: str, *, purpose: str, value: str, user_id: str) -> str:
    """`value` with its MAC, for private_metadata."""
    return f"{value}{SEPARATOR}{_mac(key, purpose, value, user_id)}"


def unseal(key: str, sealed: str, *, purpose: str, user_id: str) -> str | None:
    """The value sealed for `purpose` and `user_id`; None when it was not (forged, or another user's)."""
    value, separator, mac = sealed.rpartition(SEPARATOR)
    if not separator or not hmac.compare_digest(mac, _mac(key, purpose, value, user_id)):
        return None
    return value
