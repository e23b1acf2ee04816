"""What a run re-tries although unchanged: failed, not skipped couplings and uncoupled failed records."""

from __future__ import annotations

from sqlmodel import Session

from bot.sync.error_recording import SETUP_CAUSES, SKIP_AFTER_IDENTICAL_FAILURES
from bot.sync.fieldmap import MappingSpec
from bot.sync.project import source_system
from storage.couplings import by_bc_ids, by_dataverse_ids, failed_not_skipped, pending_couplings
from storage.errors import live_record_errors
from storage.models import Direction, System


def retry_ids(session: Session, *, spec: MappingSpec, direction: Direction) -> list[str]:
    """Source ids to re-try: failed, not skipped couplings, and uncoupled records whose error was seen once.

    An uncoupled record has no coupling to mark skipped, so it is re-tried until the same error was seen
    twice, which is where Business Central would skip a coupled one.
    """
    system = source_system(direction)
    side = spec.side(system)
    ids: list[str] = []
    for coupling in failed_not_skipped(session, mapping=spec.name, direction=direction):
        ids.append(coupling.bc_id if system is System.BUSINESS_CENTRAL else coupling.dataverse_id)
    if system is System.BUSINESS_CENTRAL:  # creates towards Dataverse whose answer was lost
        ids.extend(c.bc_id for c in pending_couplings(session, mapping=spec.name))
    errors = live_record_errors(session, mapping=spec.name, direction=direction, source_table=side.name)
    # A record that failed for a setup cause (a privilege, an exchange rate, the service) is retried until
    # the cause is gone: the failure says nothing about the record, and nothing else would bring it back.
    candidates = [
        e.source_id
        for e in errors
        if e.source_id and (e.occurrences < SKIP_AFTER_IDENTICAL_FAILURES or e.category in SETUP_CAUSES)
    ]
    if candidates:
        lookup = by_bc_ids if system is System.BUSINESS_CENTRAL else by_dataverse_ids
        coupled = lookup(session, table=side.entity_set, ids=candidates)
        ids.extend(i for i in candidates if i not in coupled)
    return list(dict.fromkeys(ids))
