"""Couple one Business Central record to one Dataverse row, and say which side counts as synced as it is."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from bot.connectors.models import Record
from bot.sync.fieldmap import MappingSpec
from storage.couplings import note_version, upsert_coupling
from storage.models import Coupling, System


def couple_pair(
    session: Session,
    *,
    spec: MappingSpec,
    bc_record: Record,
    dataverse_record: Record,
    synced_as_is: Iterable[System] = (),
) -> Coupling:
    """Couple the pair (re-pointing resets the sync state); the sides in `synced_as_is` count as synced.

    A side left out counts as changed, so the next sync carries its values over (Synchronize After Coupling).
    """
    coupling = upsert_coupling(
        session,
        mapping=spec.name,
        bc_table=spec.bc.entity_set,
        bc_id=bc_record.id,
        dataverse_table=spec.dataverse.entity_set,
        dataverse_id=dataverse_record.id,
        bc_key=spec.bc.key_of(bc_record.fields),
        name=spec.bc.name_of(bc_record.fields) or spec.dataverse.name_of(dataverse_record.fields),
    )
    for system in synced_as_is:
        record = bc_record if system is System.BUSINESS_CENTRAL else dataverse_record
        note_version(coupling, system=system, modified_at=record.modified_at, etag=record.etag)
    session.add(coupling)
    return coupling
