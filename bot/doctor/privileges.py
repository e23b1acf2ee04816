"""Check that the integration user holds the Dataverse privileges the enabled mappings need."""

from __future__ import annotations

from collections.abc import Iterable

from bot.connectors.links import dataverse_logical_name
from bot.doctor.context import DoctorRun
from bot.doctor.mappings import load_mappings
from bot.doctor.result import USER_PRIVILEGES, CheckResult
from bot.doctor.user import integration_user, user_label
from bot.phrases import Value, joined, say
from bot.sync.hints import INTEGRATION_ROLE, privilege_phrase
from bot.sync.mappings import DEFAULT_SPECS, mapping_row
from storage.models import Direction, Mapping

# What a mapping does to its Dataverse table decides the privileges it needs there:
# - a mapping that only reads Dataverse (from Dataverse, e.g. SALESPEOPLE on systemusers) needs Read;
# - a mapping that writes to it (to Dataverse or bidirectional) needs Create, Read and Write; on accounts and
#   contacts also Delete (the Delete button of a deletion conflict removes the surviving row) and Append and
#   AppendTo (accounts carry currency and owner lookups, contacts point at their parent account).
# Business Central's integration role grants all of these; a role an admin built by hand often lacks some,
# and then every record of that table fails with 0x80040220 ("is missing prv… privilege") during the sync.
READ_ACTIONS = ("Read",)
WRITE_ACTIONS = ("Create", "Read", "Write")
# Tables that need more than WRITE_ACTIONS when a mapping writes to them.
TABLE_WRITE_ACTIONS: dict[str, tuple[str, ...]] = {
    "accounts": (*WRITE_ACTIONS, "Delete", "Append", "AppendTo"),
    "contacts": (*WRITE_ACTIONS, "Delete", "Append", "AppendTo"),
}
# Privilege names use the table's schema name, which is not always its capitalised logical name.
PRIVILEGE_ENTITIES = {
    "accounts": "Account",
    "contacts": "Contact",
    "transactioncurrencies": "TransactionCurrency",
    "products": "Product",
    "systemusers": "User",
}


def privilege_name(table: str, action: str) -> str:
    """The privilege an action on a Dataverse table needs: ("accounts", "Create") -> "prvCreateAccount"."""
    entity = PRIVILEGE_ENTITIES.get(table.lower())
    if entity is None:
        logical = dataverse_logical_name(table.lower())
        entity = logical[:1].upper() + logical[1:]
    return f"prv{action}{entity}"


def table_actions(table: str, direction: Direction) -> tuple[str, ...]:
    """The actions a mapping in `direction` performs on its Dataverse table."""
    if direction is Direction.FROM_DATAVERSE:
        return READ_ACTIONS
    return TABLE_WRITE_ACTIONS.get(table.lower(), WRITE_ACTIONS)


def required_privileges(mappings: Iterable[Mapping]) -> dict[str, tuple[list[str], list[str]]]:
    """Per Dataverse table of the enabled mappings: the privileges it needs and the mappings that use it."""
    needs: dict[str, tuple[list[str], list[str]]] = {}
    for mapping in sorted(mappings, key=lambda m: (m.position, m.name)):
        if not mapping.enabled:
            continue
        table = mapping.dataverse_table
        privileges, names = needs.setdefault(table, ([], []))
        for action in table_actions(table, Direction(mapping.direction)):
            name = privilege_name(table, action)
            if name not in privileges:
                privileges.append(name)
        names.append(mapping.name)
    return needs


def _captions(privileges: list[str]) -> Value:
    """ "prvCreateAccount (Create on Account) and prvWriteAccount (Write on Account)", in words to render."""
    words = [privilege_phrase(name) for name in privileges]
    if len(words) == 1:
        return words[0]
    head = words[0]
    for word in words[1:-1]:
        head = say("term.comma", first=head, rest=word)
    return say("term.and", first=head, rest=words[-1])


def check_user_privileges(run: DoctorRun) -> CheckResult:
    """The integration user holds every privilege the enabled mappings need on their Dataverse tables."""
    user = integration_user(run, USER_PRIVILEGES)
    if isinstance(user, CheckResult):
        return user
    mappings = load_mappings(run)
    note: Value = ""
    if mappings is None:
        mappings = [mapping_row(spec, position=n) for n, spec in enumerate(DEFAULT_SPECS, start=1)]
        note = say("doctor.default_mappings")
    needs = required_privileges(mappings)
    if not needs:
        return CheckResult(USER_PRIVILEGES, True, say("doctor.no_privilege_needed"))
    try:
        held = {name.lower() for name in run.dataverse.user_privileges(user.id)}
    except Exception as error:  # noqa: BLE001
        return run.failure(USER_PRIVILEGES, say("doctor.privileges_unreadable", user=user.fullname), error)
    needed = sum(len(privileges) for privileges, _ in needs.values())
    missing: list[str] = []
    gaps: list[Value] = []
    for table, (privileges, names) in needs.items():
        lacking = [name for name in privileges if name.lower() not in held]
        if lacking:
            missing += lacking
            gaps.append(
                say("doctor.gap", privileges=", ".join(lacking), table=table, mappings=", ".join(names))
            )
    if missing:
        return CheckResult(
            USER_PRIVILEGES,
            False,
            say(
                "doctor.lacks_privileges",
                user=user.fullname,
                n=len(missing),
                needed=needed,
                note=note,
                gaps=joined(gaps),
            ),
            say(
                "doctor.lacks_privileges_fix",
                privileges=_captions(missing),
                user=user_label(run, user),
                role=INTEGRATION_ROLE,
            ),
        )
    return CheckResult(
        USER_PRIVILEGES,
        True,
        say("doctor.holds_privileges", user=user.fullname, n=needed, note=note, tables=", ".join(needs)),
    )
