"""Resolve a page's lookups (currency, salesperson, parent account) through the targets' couplings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from bot.connectors.models import Record
from bot.sync.conditions import AmbiguousParent, DependencyNotCoupled
from bot.sync.fieldmap import MappingSpec
from bot.sync.mappings import spec_for
from bot.sync.project import LookupValue
from storage.couplings import all_by_names, by_bc_keys, by_dataverse_ids
from storage.models import Direction


@dataclass
class ResolvedPage:
    """Per source record id: the lookup values to write, or the first dependency that is not coupled."""

    values: dict[str, list[LookupValue]] = field(default_factory=dict)
    missing: dict[str, DependencyNotCoupled | AmbiguousParent] = field(default_factory=dict)


def resolve_lookups(
    session: Session, *, spec: MappingSpec, direction: Direction, records: list[Record]
) -> ResolvedPage:
    """Resolve every lookup of `records` with one query per lookup; blank keys (local currency) need none."""
    page = ResolvedPage(values={record.id: [] for record in records})
    for lookup in spec.lookups_for(direction):
        target = spec_for(lookup.target)
        if direction is Direction.TO_DATAVERSE:
            keys = {str(r.fields.get(lookup.bc) or "").strip() for r in records} - {""}
            ambiguous: dict[str, int] = {}
            if lookup.by_name:
                # A name is not a key: a name shared by several coupled records points at none of them.
                named = all_by_names(session, mapping=target.name, names=keys)
                coupled = {name: found[0] for name, found in named.items() if len(found) == 1}
                ambiguous = {name: len(found) for name, found in named.items() if len(found) > 1}
            else:
                coupled = by_bc_keys(session, mapping=target.name, keys=keys)
            for record in records:
                key = str(record.fields.get(lookup.bc) or "").strip()
                if not key:
                    page.values[record.id].append(LookupValue(lookup, None))
                elif key in ambiguous:
                    page.missing.setdefault(
                        record.id, AmbiguousParent(target.name, lookup.bc, key, ambiguous[key])
                    )
                elif key in coupled:
                    value = coupled[key].dataverse_id
                    page.values[record.id].append(LookupValue(lookup, value, target.dataverse.entity_set))
                else:
                    page.missing.setdefault(
                        record.id,
                        DependencyNotCoupled(
                            dependency_mapping=target.name,
                            dependency_table=target.bc.entity_set,
                            dependency_key=key,
                            field=lookup.bc,
                            dependency_system="business_central",
                        ),
                    )
        else:
            ids = {str(r.fields.get(lookup.value_field) or "") for r in records} - {""}
            by_id = by_dataverse_ids(session, table=target.dataverse.entity_set, ids=ids)
            for record in records:
                guid = str(record.fields.get(lookup.value_field) or "")
                if not guid:
                    page.values[record.id].append(LookupValue(lookup, ""))
                elif guid in by_id and by_id[guid].bc_key:
                    page.values[record.id].append(LookupValue(lookup, by_id[guid].bc_key))
                else:
                    page.missing.setdefault(
                        record.id,
                        DependencyNotCoupled(
                            dependency_mapping=target.name,
                            dependency_table=target.dataverse.entity_set,
                            dependency_key=guid,
                            field=lookup.bc,
                            dependency_system="dataverse",
                        ),
                    )
    return page
