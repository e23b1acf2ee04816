"""Security-role privileges: what each seeded role holds, and what a user holds through its roles."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from bot.sandbox.constants import INTEGRATION_ROLE, SYSTEM_ADMINISTRATOR_ROLE
from bot.sandbox.schema import DV_BY_LOGICAL_NAME

# Privilege depths (Dataverse's PrivilegeDepth), narrowest first: a user holding one privilege through several
# roles holds it at the widest depth.
DEPTHS = ("Basic", "Local", "Deep", "Global")
RECORD_ACTIONS = ("Create", "Read", "Write", "Delete", "Append", "AppendTo")
_ALL_ACTIONS = (*RECORD_ACTIONS, "Assign", "Share")
_PRIVILEGE_NAMESPACE = uuid.UUID("4b1d3c9e-2f6a-4e8b-9c07-5d3e1f2a6b80")
_BUSINESS_TABLES = ("account", "contact", "transactioncurrency", "product")

Grants = dict[str, str]


def privilege_id(name: str) -> str:
    """The stable PrivilegeId of a privilege name (the same in every sandbox)."""
    return str(uuid.uuid5(_PRIVILEGE_NAMESPACE, name.lower()))


def _grant(logical_names: Iterable[str], actions: Iterable[str], depth: str) -> Grants:
    chosen = tuple(actions)
    return {DV_BY_LOGICAL_NAME[name].privilege(action): depth for name in logical_names for action in chosen}


ROLE_PRIVILEGES: dict[str, Grants] = {
    SYSTEM_ADMINISTRATOR_ROLE: _grant(DV_BY_LOGICAL_NAME, _ALL_ACTIONS, "Global"),
    INTEGRATION_ROLE: {
        **_grant(_BUSINESS_TABLES, RECORD_ACTIONS, "Global"),
        **_grant(("systemuser",), ("Read",), "Global"),
    },
    "Salesperson": {
        **_grant(("account", "contact"), ("Create", "Read", "Write", "Append", "AppendTo"), "Basic"),
        **_grant(("product", "transactioncurrency"), ("Read",), "Global"),
    },
    "Sales Manager": _grant(("account", "contact"), RECORD_ACTIONS, "Local"),
    "Basic User": _grant(("systemuser", "transactioncurrency", "role"), ("Read",), "Global"),
}


def held_privileges(
    role_names: Iterable[str], withheld: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(name, depth) of every privilege the roles grant, at the widest depth, less `withheld` (lower case)."""
    held: Grants = {}
    for role in role_names:
        for name, depth in ROLE_PRIVILEGES.get(role, {}).items():
            if DEPTHS.index(depth) >= DEPTHS.index(held.get(name, DEPTHS[0])):
                held[name] = depth
    return sorted((name, depth) for name, depth in held.items() if name.lower() not in withheld)
