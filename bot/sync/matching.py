"""Match-based coupling: pair uncoupled records whose match fields agree, one criterion group at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.connectors.models import Record
from bot.sync.fieldmap import MappingSpec, MatchField
from storage.models import Direction


@dataclass
class MatchOutcome:
    """What matching found: pairs to couple (bc, dataverse) and the records it could not couple, by reason."""

    pairs: list[tuple[Record, Record]] = field(default_factory=list)
    no_match: list[Record] = field(default_factory=list)
    several_matches: list[Record] = field(default_factory=list)
    already_coupled: list[tuple[Record, Record]] = field(default_factory=list)  # (record, coupled target)


def _value(fields: dict[str, Any], name: str, case_sensitive: bool) -> str:
    text = " ".join(str(fields.get(name) or "").split())
    return text if case_sensitive else text.casefold()


def match_records(
    spec: MappingSpec,
    *,
    bc_records: Iterable[Record],
    dataverse_records: Iterable[Record],
    coupled_bc: set[str],
    coupled_dataverse: set[str],
    criteria: Sequence[Sequence[MatchField]] | None = None,
    case_sensitive: bool = False,
) -> MatchOutcome:
    """Pair each uncoupled record with the one uncoupled record of the other side that matches it.

    Records are taken from the side the mapping syncs from (BC unless it syncs from Dataverse). Groups are
    tried in priority order; a group with a blank value is passed over; several candidates stop the search.
    """
    groups = [tuple(group) for group in (criteria or spec.match) if group]
    from_dataverse = spec.direction is Direction.FROM_DATAVERSE
    sources = list(dataverse_records if from_dataverse else bc_records)
    targets = list(bc_records if from_dataverse else dataverse_records)
    source_side, target_side = (spec.dataverse, spec.bc) if from_dataverse else (spec.bc, spec.dataverse)
    coupled_sources, coupled_targets = (
        (coupled_dataverse, coupled_bc) if from_dataverse else (coupled_bc, coupled_dataverse)
    )

    def source_field(match: MatchField) -> str:
        return match.dataverse if from_dataverse else match.bc

    def target_field(match: MatchField) -> str:
        return match.bc if from_dataverse else match.dataverse

    indexes: list[dict[tuple[str, ...], list[Record]]] = []
    for group in groups:
        index: dict[tuple[str, ...], list[Record]] = defaultdict(list)
        for target in targets:
            if target_side.accepts is None or target_side.accepts(target.fields):
                key = tuple(_value(target.fields, target_field(m), case_sensitive) for m in group)
                if all(key):
                    index[key].append(target)
        indexes.append(index)

    outcome = MatchOutcome()
    claimed: set[str] = set()
    for source in sources:
        if source.id in coupled_sources or (source_side.accepts and not source_side.accepts(source.fields)):
            continue
        result = _match_one(source, groups, indexes, source_field, coupled_targets | claimed, case_sensitive)
        if isinstance(result, Record):
            claimed.add(result.id)
            outcome.pairs.append((result, source) if from_dataverse else (source, result))
        elif result == "several":
            outcome.several_matches.append(source)
        elif isinstance(result, tuple):
            outcome.already_coupled.append(result)
        else:
            outcome.no_match.append(source)
    return outcome


def _match_one(
    source: Record,
    groups: list[tuple[MatchField, ...]],
    indexes: list[dict[tuple[str, ...], list[Record]]],
    source_field: Any,
    taken: set[str],
    case_sensitive: bool,
) -> Record | str | tuple[Record, Record] | None:
    for group, index in zip(groups, indexes, strict=True):
        key = tuple(_value(source.fields, source_field(m), case_sensitive) for m in group)
        if not all(key):
            continue
        candidates = index.get(key, [])
        free = [c for c in candidates if c.id not in taken]
        if len(free) == 1:
            return free[0]
        if len(free) > 1:
            return "several"
        if candidates:
            return (source, candidates[0])
    return None
