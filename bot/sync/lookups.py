"""Resolve a page's lookups (currency, salesperson, parent account) through the targets' couplings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlmodel import Session

from bot.connectors.models import ContactRelation, Record
from bot.sync.conditions import DependencyNotCoupled, NoBusinessRelation
from bot.sync.fieldmap import Lookup, MappingSpec
from bot.sync.mappings import spec_for
from bot.sync.project import LookupValue
from storage.couplings import by_bc_ids, by_bc_keys, by_dataverse_ids
from storage.models import Coupling, Direction

Unresolved = DependencyNotCoupled | NoBusinessRelation


@dataclass
class ResolvedPage:
    """Per source record id: the lookup values to write, or the first dependency that is not coupled."""

    values: dict[str, list[LookupValue]] = field(default_factory=dict)
    missing: dict[str, Unresolved] = field(default_factory=dict)


def resolve_lookups(
    session: Session,
    *,
    spec: MappingSpec,
    direction: Direction,
    records: list[Record],
    relations: list[ContactRelation] | None = None,
) -> ResolvedPage:
    """Resolve every lookup of `records` with one query per lookup; blank keys (local currency) need none."""
    page = ResolvedPage(values={record.id: [] for record in records})
    for lookup in spec.lookups_for(direction):
        target = spec_for(lookup.target)
        if lookup.via_relation:
            _through_relations(session, page, lookup, target, direction, records, relations or [])
            continue
        if direction is Direction.TO_DATAVERSE:
            keys = {str(r.fields.get(lookup.bc) or "").strip() for r in records} - {""}
            coupled = by_bc_keys(session, mapping=target.name, keys=keys)
            for record in records:
                key = str(record.fields.get(lookup.bc) or "").strip()
                if not key:
                    page.values[record.id].append(LookupValue(lookup, None))
                elif key in coupled:
                    value = coupled[key].dataverse_id
                    page.values[record.id].append(LookupValue(lookup, value, target.dataverse.entity_set))
                else:
                    page.missing.setdefault(
                        record.id,
                        _not_coupled(target, "bc", key, lookup),
                    )
        else:
            for record, guid, coupling in _coupled_guids(session, page, lookup, target, records):
                if coupling.bc_key:
                    page.values[record.id].append(LookupValue(lookup, coupling.bc_key))
                else:
                    page.missing.setdefault(record.id, _not_coupled(target, "dataverse", guid, lookup))
    return page


def _coupled_guids(
    session: Session, page: ResolvedPage, lookup: Lookup, target: MappingSpec, records: list[Record]
) -> Iterator[tuple[Record, str, Coupling]]:
    """Each record whose lookup GUID is coupled, with its coupling; blank GUIDs written, uncoupled missing."""
    guids = {_guid(record, lookup) for record in records} - {""}
    by_id = by_dataverse_ids(session, table=target.dataverse.entity_set, ids=guids)
    for record in records:
        guid = _guid(record, lookup)
        if not guid:
            page.values[record.id].append(LookupValue(lookup, ""))
        elif guid not in by_id:
            page.missing.setdefault(record.id, _not_coupled(target, "dataverse", guid, lookup))
        else:
            yield record, guid, by_id[guid]


def _guid(record: Record, lookup: Lookup) -> str:
    """The Dataverse GUID `record`'s lookup field holds ("" when blank)."""
    return str(record.fields.get(lookup.value_field) or "")


def _through_relations(
    session: Session,
    page: ResolvedPage,
    lookup: Lookup,
    target: MappingSpec,
    direction: Direction,
    records: list[Record],
    relations: list[ContactRelation],
) -> None:
    """A contact's company: company contact -> its business relation's customer -> the customer's coupling."""
    companies = [r for r in relations if r.contact_type == "Company" and r.related_type == "Customer"]
    if direction is Direction.TO_DATAVERSE:
        customer_of = {r.contact_number: r.related_id for r in companies}
        wanted = {customer_of[n] for r in records if (n := str(r.fields.get(lookup.bc) or "")) in customer_of}
        coupled = by_bc_ids(session, table=target.bc.entity_set, ids=wanted)
        for record in records:
            number = str(record.fields.get(lookup.bc) or "").strip()
            if not number:
                page.values[record.id].append(LookupValue(lookup, None))
            elif number not in customer_of:
                key = str(record.fields.get("number") or record.id)
                page.missing.setdefault(record.id, NoBusinessRelation(contact=key, toward="dataverse"))
            elif customer_of[number] in coupled:
                account = coupled[customer_of[number]].dataverse_id
                page.values[record.id].append(LookupValue(lookup, account, target.dataverse.entity_set))
            else:
                page.missing.setdefault(
                    record.id,
                    _not_coupled(target, "bc", str(record.fields.get("companyName") or number), lookup),
                )
        return
    company_of = {r.related_id: r.contact_number for r in companies}
    for record, guid, coupling in _coupled_guids(session, page, lookup, target, records):
        if coupling.bc_id.lower() in company_of:
            page.values[record.id].append(LookupValue(lookup, company_of[coupling.bc_id.lower()]))
        else:
            name = coupling.name or coupling.bc_key or guid
            page.missing.setdefault(record.id, NoBusinessRelation(contact=name, toward="business_central"))


def _not_coupled(target: MappingSpec, side: str, key: str, lookup: Lookup) -> DependencyNotCoupled:
    """The lookup's target on one side ("bc" or "dataverse") is not coupled yet."""
    system = "business_central" if side == "bc" else "dataverse"
    table = target.bc.entity_set if side == "bc" else target.dataverse.entity_set
    return DependencyNotCoupled(
        dependency_mapping=target.name,
        dependency_table=table,
        dependency_key=key,
        field=lookup.bc,
        dependency_system=system,
    )
