"""The demo's story: the setup problems people really hit, switched on one by one in the sandbox.

Each step switches a fault on and, where Business Central would only notice it on a change, makes the change a
person would make (a new customer, an edit of a customer whose account was deleted, an edited currency).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.sandbox import SandboxServer
from storage.couplings import for_mapping


@dataclass(frozen=True)
class Step:
    """One moment of the story: what happens, told in one line, and how to make it happen."""

    title: str
    story: str
    act: Callable[[SandboxServer, Engine], None]


def _new_customers_without_privilege(server: SandboxServer, _db: Engine) -> None:
    server.set_fault("missing-privilege", entity="account", privilege="prvCreateAccount")
    for name in ("Northwind Traders", "Wide World Importers", "Tailspin Toys"):
        server.state.bc_create("customers", {"displayName": name, "type": "Company", "city": "Seattle"})


def _account_deleted_in_sales(server: SandboxServer, db: Engine) -> None:
    with Session(db) as session:
        coupling = next(iter(for_mapping(session, mapping="CUSTOMER")), None)
    if coupling is None:
        server.set_fault("deleted-coupled-record")
        return
    server.set_fault("deleted-coupled-record", side="dataverse", table="accounts", id=coupling.dataverse_id)
    server.state.bc_update("customers", coupling.bc_id, {"phoneNumber": "+1 425 555 0100"})


def _currency_without_rate(server: SandboxServer, _db: Engine) -> None:
    server.set_fault("missing-exchange-rate", currency="DKK")
    currency = server.state.bc_find("currencies", code="DKK")
    if currency is not None:
        server.state.bc_update("currencies", str(currency["id"]), {"displayName": "Danish krone"})


def _password_expired(server: SandboxServer, _db: Engine) -> None:
    server.set_fault("password-change-required")


def _admin_as_integration_user(server: SandboxServer, _db: Engine) -> None:
    server.clear_faults()
    server.set_fault("admin-integration-user")


def _all_fixed(server: SandboxServer, _db: Engine) -> None:
    server.clear_faults()


STEPS: tuple[Step, ...] = (
    Step(
        "missing privilege",
        "Three new customers in Business Central, but the integration user's role lacks prvCreateAccount.",
        _new_customers_without_privilege,
    ),
    Step(
        "deleted coupled record",
        "Someone deletes a coupled account in Sales; its customer is then edited in Business Central.",
        _account_deleted_in_sales,
    ),
    Step(
        "missing exchange rate",
        "The currency DKK loses its exchange rate in Business Central, then is edited.",
        _currency_without_rate,
    ),
    Step(
        "expired password",
        "The integration user's sign-in is refused: its password must be changed (AADSTS50055).",
        _password_expired,
    ),
    Step(
        "admin as integration user",
        "Someone gives the integration user the System Administrator role.",
        _admin_as_integration_user,
    ),
    Step("everything fixed", "The admins fix the setup; the next syncs run clean.", _all_fixed),
)
