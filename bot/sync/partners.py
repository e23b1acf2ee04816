"""Match before insert: look on the other side for the partner of each uncoupled record before creating one.

As Business Central's match-based coupling: the mapping's match fields in priority order; exactly one
uncoupled match inside the mapping's filter is coupled; several give a `several-matches` error and nothing
is created; none lets the engine create the record. Records a person uncoupled are neither synced nor
offered as partners until someone couples them again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session

from bot.connectors.models import Record
from bot.sync.conditions import MatchCandidate, SeveralMatches
from bot.sync.fieldmap import MappingSpec
from bot.sync.matching import _value, match_records
from bot.sync.pairs import couple_pair
from bot.sync.project import destination_system, source_system
from storage.couplings import by_bc_ids, by_dataverse_ids, uncoupled_ids
from storage.errors import live_errors_of_category
from storage.models import Category, Coupling, Direction, System

UrlOf = Callable[[Record], str | None]


@dataclass
class PartnerSearch:
    """What the search found for a page's uncoupled records, by source id."""

    coupled: dict[str, Coupling] = field(default_factory=dict)  # one match: coupled now
    several: dict[str, SeveralMatches] = field(default_factory=dict)  # several: nothing is created
    blocked: set[str] = field(default_factory=set)  # uncoupled by a person: left alone


def uncoupled_by_person(session: Session, *, spec: MappingSpec, system: System, ids: list[str]) -> set[str]:
    """Which of these records of one side a person uncoupled."""
    return uncoupled_ids(session, system=system, table=spec.side(system).entity_set, ids=ids)


def find_partners(
    session: Session,
    *,
    spec: MappingSpec,
    direction: Direction,
    records: list[Record],
    targets: list[Record],
    url_of: UrlOf,
) -> PartnerSearch:
    """Couple each record with its one uncoupled match among `targets`; report several matches."""
    src_system, dst_system = source_system(direction), destination_system(direction)
    found = PartnerSearch()
    found.blocked = uncoupled_by_person(session, spec=spec, system=src_system, ids=[r.id for r in records])
    awaiting, candidates = _awaiting_a_person(session, spec, direction)
    # The candidates of an open several-matches error, and the records waiting on the other side, are a
    # person's decision: neither coupled to something else nor given a new partner meanwhile.
    found.blocked |= {r.id for r in records if r.id in candidates or r.id in awaiting.get("other", set())}
    wanted = [r for r in records if r.id not in found.blocked]
    if not wanted or not targets:
        return found
    taken_lookup = by_dataverse_ids if dst_system is System.DATAVERSE else by_bc_ids
    dst_table = spec.side(dst_system).entity_set
    taken = set(taken_lookup(session, table=dst_table, ids=[t.id for t in targets]))
    taken |= uncoupled_ids(session, system=dst_system, table=dst_table, ids=[t.id for t in targets])
    taken |= awaiting.get("other", set()) | awaiting.get("same", set())
    one_way = dataclasses.replace(spec, direction=direction)
    bc_records, dv_records = (wanted, targets) if src_system is System.BUSINESS_CENTRAL else (targets, wanted)
    outcome = match_records(
        one_way,
        bc_records=bc_records,
        dataverse_records=dv_records,
        coupled_bc=taken if dst_system is System.BUSINESS_CENTRAL else set(),
        coupled_dataverse=taken if dst_system is System.DATAVERSE else set(),
    )
    for bc_record, dv_record in outcome.pairs:
        source, partner = (
            (bc_record, dv_record) if src_system is System.BUSINESS_CENTRAL else (dv_record, bc_record)
        )
        # Synchronize After Coupling with the source's data: the partner counts as synced as it is.
        found.coupled[source.id] = couple_pair(
            session, spec=spec, bc_record=bc_record, dataverse_record=dv_record, synced_as_is=(dst_system,)
        )
    for source in outcome.several_matches:
        found.several[source.id] = several_matches(one_way, source, targets, taken, url_of)
    return found


def _awaiting_a_person(
    session: Session, spec: MappingSpec, direction: Direction
) -> tuple[dict[str, set[str]], set[str]]:
    """Sources of open several-matches errors (this direction: "same", the other: "other"), and candidates."""
    awaiting: dict[str, set[str]] = {"same": set(), "other": set()}
    candidates: set[str] = set()
    for error in live_errors_of_category(session, mapping=spec.name, category=Category.SEVERAL_MATCHES):
        if error.source_id:
            awaiting["same" if error.direction == direction else "other"].add(error.source_id)
        for candidate in (error.facts or {}).get("candidates") or []:
            if isinstance(candidate, dict) and candidate.get("id"):
                candidates.add(str(candidate["id"]))
    return awaiting, candidates


def several_matches(
    spec: MappingSpec, source: Record, targets: list[Record], taken: set[str], url_of: UrlOf
) -> SeveralMatches:
    """The condition naming every uncoupled candidate of the first criterion group that found several."""
    from_dataverse = spec.direction is Direction.FROM_DATAVERSE
    target_side = spec.bc if from_dataverse else spec.dataverse
    for group in spec.match:
        src_fields = [m.dataverse if from_dataverse else m.bc for m in group]
        dst_fields = [m.bc if from_dataverse else m.dataverse for m in group]
        key = tuple(_value(source.fields, f, False) for f in src_fields)
        if not all(key):
            continue
        hits = [
            t
            for t in targets
            if t.id not in taken
            and (target_side.accepts is None or target_side.accepts(t.fields))
            and tuple(_value(t.fields, f, False) for f in dst_fields) == key
        ]
        if len(hits) > 1:
            criteria = ", ".join(f"{s} = {d}" for s, d in zip(src_fields, dst_fields, strict=True))
            candidates = tuple(
                MatchCandidate(t.id, target_side.key_of(t.fields), target_side.name_of(t.fields), url_of(t))
                for t in hits[:20]
            )
            return SeveralMatches(table=target_side.entity_set, criteria=criteria, candidates=candidates)
    return SeveralMatches(table=target_side.entity_set, criteria="", candidates=())
