"""A lookup's 404 vs the record's own 404, in both apps, over HTTP against the sandbox."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.blocks import build_error_message
from bot.sandbox import SandboxServer
from bot.sync.engine import SyncEngine
from storage.models import Category, Coupling, ErrorStatus, SyncError
from tests.bot.blocks.checks import action_ids
from tests.bot.sync.test_sandbox_e2e import live, server

__all__ = ["live", "server"]


def errors(engine: SyncEngine) -> list[SyncError]:
    """Every error entry, oldest first."""
    with Session(engine.db) as session:
        return list(session.exec(select(SyncError).order_by(SyncError.id)).all())


def coupling_of(engine: SyncEngine, *, bc_id: str) -> Coupling:
    """The coupling of a Business Central record."""
    with Session(engine.db) as session:
        return session.exec(select(Coupling).where(Coupling.bc_id == bc_id)).one()


def eur_customer(server: SandboxServer) -> dict[str, object]:
    """A customer in EUR (the sandbox's first one moved there)."""
    customer = server.state.bc_find("customers", number="10000")
    assert customer is not None
    return customer


def test_a_missing_dataverse_currency_is_the_lookups_problem(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    customer = eur_customer(server)
    account_id = coupling_of(live, bc_id=str(customer["id"])).dataverse_id
    currency = server.state.dv_find("transactioncurrencies", isocurrencycode="EUR")
    assert currency is not None
    server.state.dv_delete("transactioncurrencies", currency["transactioncurrencyid"])
    server.state.bc_update("customers", str(customer["id"]), {"currencyCode": "EUR", "city": "Graz"})
    live.run(["CUSTOMER"])
    [error] = errors(live)
    assert error.category is Category.DEPENDENCY_NOT_COUPLED
    assert error.status is ErrorStatus.OPEN
    assert error.facts["missing_reference"] is True
    assert error.facts["dependency_key"] == "EUR"
    assert error.facts["missing_in"] == "dataverse"
    assert error.facts["dependency_system"] == "business_central"  # the currency that still exists
    assert error.facts["dependency_mapping"] == "CURRENCY"
    assert "page=5" in error.facts["dependency_url"] and "EUR" in error.facts["dependency_url"]
    assert error.message.startswith("Currency EUR does not exist in Dataverse")
    assert "deleted record" not in error.message
    assert "currency EUR" in error.hint and "Someone deleted" not in error.hint
    buttons = action_ids(build_error_message(error).to_dict())
    assert "resync" in buttons and "couple_dependency" in buttons
    assert not {"restore_record", "delete_record", "uncouple"} & set(buttons)
    assert server.state.dv_get("accounts", account_id) is not None  # the account was never gone
    assert not coupling_of(live, bc_id=str(customer["id"])).skipped


def test_the_accounts_own_404_is_a_deleted_record(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    customer = eur_customer(server)
    account_id = coupling_of(live, bc_id=str(customer["id"])).dataverse_id
    server.state.dv_delete("accounts", account_id)
    server.state.bc_update("customers", str(customer["id"]), {"city": "Graz"})
    live.run(["CUSTOMER"])
    [error] = errors(live)
    assert error.category is Category.DELETED_RECORD
    assert error.status is ErrorStatus.OPEN
    assert error.facts["deleted_side"] == "dataverse"
    buttons = action_ids(build_error_message(error).to_dict())
    assert buttons[:4] == ["restore_record", "delete_record", "uncouple", "resync"]


def test_a_missing_business_central_currency_is_named_by_its_code(
    live: SyncEngine, server: SandboxServer
) -> None:
    live.run(full=True)
    customer = eur_customer(server)
    account_id = coupling_of(live, bc_id=str(customer["id"])).dataverse_id
    bc_currency = server.state.bc_find("currencies", code="EUR")
    dv_currency = server.state.dv_find("transactioncurrencies", isocurrencycode="EUR")
    assert bc_currency is not None and dv_currency is not None
    server.state.bc_delete("currencies", str(bc_currency["id"]))
    # In Dataverse someone moves the account to EUR, whose Business Central currency is gone.
    bind = f"/transactioncurrencies({dv_currency['transactioncurrencyid']})"
    server.state.dv_update("accounts", account_id, {"transactioncurrencyid@odata.bind": bind})
    live.run(["CUSTOMER"])
    [error] = [e for e in errors(live) if e.mapping == "CUSTOMER"]
    assert error.category is Category.DEPENDENCY_NOT_COUPLED, error.message
    assert error.status is ErrorStatus.OPEN
    assert error.facts["missing_reference"] is True
    assert error.facts["dependency_key"] == "EUR"
    assert error.facts["missing_in"] == "business_central"
    assert error.facts["dependency_system"] == "dataverse"
    assert error.facts["dependency_id"] == dv_currency["transactioncurrencyid"]
    assert "EUR" in error.message and "Business Central" in error.message
    buttons = action_ids(build_error_message(error).to_dict())
    assert "resync" in buttons and "restore_record" not in buttons
    assert server.state.bc_get("customers", str(customer["id"])) is not None


def test_the_customers_own_404_is_a_deleted_record(live: SyncEngine, server: SandboxServer) -> None:
    live.run(full=True)
    customer = eur_customer(server)
    account_id = coupling_of(live, bc_id=str(customer["id"])).dataverse_id
    server.state.bc_delete("customers", str(customer["id"]))
    server.state.dv_update("accounts", account_id, {"telephone1": "+43 1 555"})
    live.run(["CUSTOMER"])
    [error] = errors(live)
    assert error.category is Category.DELETED_RECORD
    assert error.facts["deleted_side"] == "business_central"
    assert "restore_record" in action_ids(build_error_message(error).to_dict())


def test_a_dataverse_dependency_is_named_by_its_code_not_its_guid(
    live: SyncEngine, server: SandboxServer
) -> None:
    live.run(full=True)
    customer = eur_customer(server)
    account_id = coupling_of(live, bc_id=str(customer["id"])).dataverse_id
    # A currency made in Dataverse only, never coupled to Business Central.
    chf = server.state.dv_create(
        "transactioncurrencies",
        {"isocurrencycode": "CHF", "currencyname": "Swiss Franc", "currencysymbol": "Fr.",
         "exchangerate": 0.95, "currencyprecision": 2},
    )  # fmt: skip
    bind = f"/transactioncurrencies({chf['transactioncurrencyid']})"
    server.state.dv_update("accounts", account_id, {"transactioncurrencyid@odata.bind": bind})
    live.run(["CUSTOMER"])
    [error] = [e for e in errors(live) if e.mapping == "CUSTOMER"]
    assert error.category is Category.DEPENDENCY_NOT_COUPLED
    assert error.facts["dependency_key"] == "CHF"
    assert error.facts["dependency_id"] == chf["transactioncurrencyid"]
    assert error.message == "Currency Code CHF must be coupled to a record in Business Central."
    assert chf["transactioncurrencyid"] not in error.message
    link = error.facts["dependency_url"]
    assert chf["transactioncurrencyid"] in link  # linked to the row in Dataverse
    assert "currency CHF" in error.hint and chf["transactioncurrencyid"] not in error.hint.replace(link, "")


def test_couple_dependency_re_creates_the_missing_currency_then_the_record_syncs(
    live: SyncEngine, server: SandboxServer
) -> None:
    from bot.sync.actions import SyncActions

    live.run(full=True)
    customer = eur_customer(server)
    account_id = coupling_of(live, bc_id=str(customer["id"])).dataverse_id
    currency = server.state.dv_find("transactioncurrencies", isocurrencycode="EUR")
    assert currency is not None
    server.state.dv_delete("transactioncurrencies", currency["transactioncurrencyid"])
    server.state.bc_update("customers", str(customer["id"]), {"currencyCode": "EUR", "city": "Graz"})
    live.run(["CUSTOMER"])
    [error] = errors(live)
    assert error.status is ErrorStatus.OPEN
    outcome = SyncActions(live).couple_dependency(error.id or 0, actor="U1")
    assert outcome.ok, outcome.message
    assert "Re-created Currency EUR in Dataverse" in outcome.message
    recreated = server.state.dv_find("transactioncurrencies", isocurrencycode="EUR")
    assert recreated is not None and recreated["transactioncurrencyid"] != currency["transactioncurrencyid"]
    account = server.state.dv_get("accounts", account_id)
    assert account is not None and account["address1_city"] == "Graz"
    assert account["_transactioncurrencyid_value"] == recreated["transactioncurrencyid"]
    [after] = [e for e in errors(live) if e.id == error.id]
    assert after.status is ErrorStatus.RESOLVED
