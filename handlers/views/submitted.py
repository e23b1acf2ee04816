"""What a submitted modal carries: its private_metadata and the values of its inputs."""

from __future__ import annotations

import json
from typing import Any

from handlers.seal import unseal


def metadata(view: dict[str, Any]) -> str:
    """The view's private_metadata ("" when absent)."""
    return str(view.get("private_metadata") or "")


def metadata_error_id(view: dict[str, Any], body: dict[str, Any], *, key: str) -> int | None:
    """The error id a snooze or couple modal was opened for, by its submitter (sealed at open; else None)."""
    user_id = str((body.get("user") or {}).get("id") or "")
    text = unseal(key, metadata(view).strip(), purpose=str(view.get("callback_id") or ""), user_id=user_id)
    return int(text) if text is not None and text.isdigit() else None


def metadata_days(view: dict[str, Any]) -> tuple[bool, int | None]:
    """(readable, older_than_days) of the purge modal; days None means every entry."""
    try:
        data = json.loads(metadata(view))
    except ValueError:
        return False, None
    days = data.get("older_than_days") if isinstance(data, dict) else "?"
    if days is None:
        return True, None
    if isinstance(days, int) and days > 0:
        return True, days
    return False, None


def input_value(view: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """A text input's value or a select's chosen option value, else None."""
    values = ((view.get("state") or {}).get("values") or {}).get(block_id) or {}
    element = values.get(action_id) or {}
    selected = element.get("selected_option")
    if isinstance(selected, dict):
        return str(selected.get("value") or "") or None
    value = element.get("value")
    return str(value) if value else None
