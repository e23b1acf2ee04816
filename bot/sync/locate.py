"""Find the records and couplings that references (`customer:10000`, `account:<guid>`, a GUID) point at."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.connectors.errors import NotFound
from bot.connectors.models import BusinessApp, Record
from bot.sync.fieldmap import MappingSpec
from bot.sync.mappings import spec_for, spec_for_table
from bot.sync.refs import BadReference, RecordReference, parse_ref
from storage.couplings import find_by_record_id, get_by_bc, get_by_bc_key, get_by_dataverse
from storage.db import session_scope
from storage.models import Coupling, System


class RecordMissing(LookupError):
    """The reference is well-formed but names no existing record or coupling."""


@dataclass(frozen=True)
class Located:
    """What a reference points at: the mapping, the system and record id, and the coupling if any."""

    spec: MappingSpec
    system: System
    record_id: str | None
    coupling: Coupling | None
    label: str  # e.g. "customer 10000"
    key: str | None = None  # the human key typed, when no id is known


class Locator:
    """Resolves references with the couplings first and the business apps only when needed."""

    def __init__(self, *, db: Engine, bc: BusinessApp, dataverse: BusinessApp) -> None:
        self.db = db
        self.bc = bc
        self.dataverse = dataverse

    def locate(self, text: str | RecordReference) -> Located:
        """Resolve a reference to mapping, system, id and coupling; raises BadReference or RecordMissing."""
        ref = parse_ref(text) if isinstance(text, str) else text
        if ref.bare:
            return self._bare(ref)
        assert ref.system is not None and ref.table is not None
        spec = spec_for_table(ref.system, ref.table)
        if spec is None:
            raise BadReference(ref.text, f"No mapping syncs the {ref.table} table.")
        side = spec.side(ref.system)
        with session_scope(self.db) as session:
            if ref.system is System.BUSINESS_CENTRAL:
                if ref.id is not None:
                    coupling = get_by_bc(session, table=side.entity_set, record_id=ref.id)
                else:
                    coupling = get_by_bc_key(session, mapping=spec.name, key=ref.key or "")
            else:
                coupling = get_by_dataverse(session, table=side.entity_set, record_id=ref.id or "")
        record_id = ref.id
        if record_id is None and coupling is not None:
            record_id = coupling.bc_id
        label = f"{side.name} {ref.key or ref.id}"
        return Located(spec, ref.system, record_id, coupling, label, ref.key)

    def record(self, located: Located) -> Record:
        """Fetch the located record (by id, or by key with one read of the table); raises RecordMissing."""
        side = located.spec.side(located.system)
        store = self.bc if located.system is System.BUSINESS_CENTRAL else self.dataverse
        if located.record_id is not None:
            try:
                return store.get(side.entity_set, located.record_id)
            except NotFound:
                raise RecordMissing(f"{located.label} does not exist in {_label(located.system)}.") from None
        for page in store.iter_changed(side.entity_set):
            for record in page:
                if located.key is not None and side.key_of(record.fields) == located.key:
                    return record
        raise RecordMissing(f"{located.label} does not exist in {_label(located.system)}.")

    def _bare(self, ref: RecordReference) -> Located:
        with session_scope(self.db) as session:
            found = find_by_record_id(session, record_id=ref.id or "")
        if not found:
            raise BadReference(
                ref.text, f"No coupled record has the id {ref.id}; name the table, e.g. customer:{ref.id}."
            )
        if len(found) > 1:
            names = ", ".join(f"{c.mapping}" for c in found)
            raise BadReference(ref.text, f"The id {ref.id} is ambiguous ({names}); name the table.")
        coupling = found[0]
        spec = spec_for(coupling.mapping)
        wanted = {ref.id or "", (ref.id or "").lower()}
        system = System.BUSINESS_CENTRAL if coupling.bc_id in wanted else System.DATAVERSE
        side = spec.side(system)
        record_id = coupling.bc_id if system is System.BUSINESS_CENTRAL else coupling.dataverse_id
        return Located(spec, system, record_id, coupling, f"{side.name} {coupling.bc_key or record_id}")


def _label(system: System) -> str:
    return "Business Central" if system is System.BUSINESS_CENTRAL else "Dataverse"
