"""Writing a mapping's settings (direction, conflict resolutions, "Synch. Only Coupled Records", enabled)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from storage.mappings import get_mapping
from storage.models import Mapping
from storage.types import utcnow

EDITABLE = frozenset({"direction", "sync_only_coupled", "deletion_conflict", "update_conflict", "enabled"})


def update_mapping(session: Session, *, name: str, **values: Any) -> Mapping:
    """Set some of a mapping's EDITABLE fields; LookupError for an unknown mapping, KeyError for a field."""
    mapping = get_mapping(session, name=name)
    if mapping is None:
        raise LookupError(f"no mapping named {name!r}")
    for field, value in values.items():
        if field not in EDITABLE:
            raise KeyError(field)
        setattr(mapping, field, value)
    mapping.updated_at = utcnow()
    session.add(mapping)
    return mapping
