"""Dependency order of mappings: a mapping runs after the mappings it depends on."""

from __future__ import annotations

from collections.abc import Sequence

from storage.models import Mapping


def dependency_order(mappings: Sequence[Mapping]) -> list[Mapping]:
    """Sort mappings so each comes after its dependencies among them; ties keep position, then name."""
    by_name = {m.name: m for m in mappings}
    ordered: list[Mapping] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(mapping: Mapping) -> None:
        if mapping.name in done or mapping.name in visiting:
            return  # a cycle falls back to position order
        visiting.add(mapping.name)
        for name in sorted(mapping.dependency_names(), key=lambda n: _rank(by_name.get(n))):
            if name in by_name:
                visit(by_name[name])
        visiting.discard(mapping.name)
        done.add(mapping.name)
        ordered.append(mapping)

    for mapping in sorted(mappings, key=_rank):
        visit(mapping)
    return ordered


def _rank(mapping: Mapping | None) -> tuple[int, str]:
    return (mapping.position, mapping.name) if mapping is not None else (0, "")
