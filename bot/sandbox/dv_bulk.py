"""Dataverse's collection-bound bulk actions `CreateMultiple` and `UpdateMultiple`: all targets or none."""

from __future__ import annotations

from typing import Any

from bot.sandbox.api_error import ApiError
from bot.sandbox.dv_records import TYPE_PREFIX, DataverseRecords, bad_request
from bot.sandbox.schema import Entity

CREATE_MULTIPLE = f"{TYPE_PREFIX}.CreateMultiple"
UPDATE_MULTIPLE = f"{TYPE_PREFIX}.UpdateMultiple"
BULK_ACTIONS = (CREATE_MULTIPLE, UPDATE_MULTIPLE)


def _targets(body: Any, entity: Entity) -> list[dict[str, Any]]:
    targets = body.get("Targets") if isinstance(body, dict) else None
    if not isinstance(targets, list) or not targets or not all(isinstance(item, dict) for item in targets):
        raise bad_request("The parameter 'Targets' must be a non-empty collection of entities.")
    expected = f"{TYPE_PREFIX}.{entity.type_name}"
    for target in targets:
        declared = str(target.get("@odata.type", expected)).lstrip("#")
        if declared != expected:
            raise bad_request(f"All entities in 'Targets' must be of type '{expected}' (got '{declared}').")
    return targets


def run_bulk(
    records: DataverseRecords, entity: Entity, action: str, body: Any, actor: str
) -> tuple[list[str], int]:
    """Run one bulk action atomically; returns the ids written and the number of operations."""
    targets = _targets(body, entity)
    store = records.store
    with store.journal():
        mark = store.mark()
        try:
            ids = []
            for target in targets:
                if action == CREATE_MULTIPLE:
                    row = records.create(entity.entity_set, target, actor)
                else:
                    record_id = target.get(entity.key)
                    if not isinstance(record_id, str):
                        raise bad_request(f"Each target of UpdateMultiple needs its '{entity.key}'.")
                    row, _ = records.update(entity.entity_set, record_id, target, actor, if_match="*")
                ids.append(str(row[entity.key]))
        except ApiError:
            store.rollback_to(mark)
            raise
    return ids, len(targets)
