"""Which story a new error belongs to: its setup cause (one message for many records), or none (its own)."""

from __future__ import annotations

from storage.models import Category, SyncError

# Causes that break many records at once: their errors fold into one message with the count.
SETUP_CAUSES = frozenset(
    {
        Category.PERMISSIONS,
        Category.CREDENTIALS,
        Category.EXCHANGE_RATE,
        Category.ADMIN_INTEGRATION_USER,
        Category.ADMIN_MODE,
        Category.THROTTLED,
        Category.CONNECTION,
        Category.DEPENDENCY_NOT_COUPLED,
    }
)
DEPENDENCY_PREFIX = "dependency-not-coupled"


def story_of(error: SyncError, cause: object) -> str | None:
    """The setup cause an error's message folds into, or None when the error is shown on its own.

    "Dependency not coupled" is one cause per mapping and parent mapping, whichever parent record is missing
    ("dependency-not-coupled:CUSTOMER:10000" and ":10001" tell one story: the list names the parents).
    """
    if not isinstance(cause, str) or not cause or error.category not in SETUP_CAUSES:
        return None
    if error.category == Category.DEPENDENCY_NOT_COUPLED:
        parts = cause.split(":")
        parent = parts[1] if cause.startswith(DEPENDENCY_PREFIX) and len(parts) > 2 else ""
        return f"{DEPENDENCY_PREFIX}:{error.mapping}:{parent}"
    return cause
