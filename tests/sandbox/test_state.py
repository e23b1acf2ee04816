"""Seeded data, edits "as a person", request counters, the control endpoints and the web-client pages."""

from __future__ import annotations

import httpx

from bot.sandbox import SandboxServer


def test_seeded_data_is_deterministic_per_seed() -> None:
    first, second, other = (SandboxServer(records=20, seed=seed) for seed in (3, 3, 4))
    try:
        assert first.state.bc_rows("customers") == second.state.bc_rows("customers")
        assert first.state.dv_rows("accounts") == second.state.dv_rows("accounts")
        assert first.company_id == second.company_id
        assert first.state.bc_rows("customers") != other.state.bc_rows("customers")
    finally:
        for server in (first, second, other):
            server.stop()


def test_seeded_data_has_what_the_sync_needs(sandbox: SandboxServer) -> None:
    state = sandbox.state
    customers = state.bc_rows("customers")
    assert len(customers) == 30
    assert [row["number"] for row in customers[:3]] == ["10000", "20000", "30000"]
    assert {row["code"] for row in state.bc_rows("currencies")} == {"EUR", "USD", "GBP", "DKK", "CZK"}
    assert any(row["currencyCode"] == "" for row in customers)
    persons = [row for row in state.bc_rows("contacts") if row["type"] == "Person"]
    assert any(row["companyNumber"] for row in persons)
    assert any(not row["companyNumber"] and not row["companyName"] for row in persons)
    assert any(row["type"] == "Company" for row in state.bc_rows("contacts"))
    names = {row["displayName"] for row in customers}
    accounts = state.dv_rows("accounts")
    assert any(row["name"] in names for row in accounts)
    assert any(row["name"] not in names for row in accounts)
    assert {row["customertypecode"] for row in accounts} == set(range(1, 13))
    assert any(row["statecode"] == 1 and row["statuscode"] == 2 for row in accounts)
    contacts = state.dv_rows("contacts")
    assert any(row["_parentcustomerid_value"] for row in contacts)
    assert any(row["_parentcustomerid_value"] is None for row in contacts)
    assert {row["isocurrencycode"] for row in state.dv_rows("transactioncurrencies")} >= {"USD"}
    salespeople = {row["displayName"] for row in state.bc_rows("salespeople")}
    assert salespeople <= {row["fullname"] for row in state.dv_rows("systemusers")}
    integration = state.dv_get("systemusers", sandbox.integration_user_id)
    assert integration is not None and integration["accessmode"] == 4
    assert state.roles_of(sandbox.integration_user_id) == ["Business Central Dataverse Integration"]


def test_edits_as_a_person_bump_etag_and_modified(sandbox: SandboxServer) -> None:
    state = sandbox.state
    customer = state.bc_rows("customers")[0]
    changed = state.bc_update("customers", customer["id"], {"city": "Praha"})
    assert changed["@odata.etag"] != customer["@odata.etag"]
    assert changed["lastModifiedDateTime"] > customer["lastModifiedDateTime"]
    created = state.bc_create("customers", {"displayName": "Walk-in Customer"})
    assert created["number"] == "310000"
    state.bc_delete("customers", created["id"])
    assert state.bc_get("customers", created["id"]) is None
    account = state.dv_rows("accounts")[0]
    edited = state.dv_update("accounts", account["accountid"], {"telephone1": "+420 1"})
    assert edited["@odata.etag"] != account["@odata.etag"]
    assert edited["_modifiedby_value"] not in (sandbox.integration_user_id, None)
    new = state.dv_create("accounts", {"name": "Typed In Dataverse"})
    state.dv_delete("accounts", new["accountid"])
    assert state.dv_get("accounts", new["accountid"]) is None


def test_request_counts_and_state_endpoint(
    http: httpx.Client, sandbox: SandboxServer, bc: httpx.Client, dv: httpx.Client
) -> None:
    before_bc, before_dv = sandbox.request_count("/bc"), sandbox.request_count("/dataverse")
    bc.get("customers")
    bc.get("currencies")
    dv.get("accounts")
    http.get(f"{sandbox.bc_web_url}/?page=21&filter='No.' IS '10000'")
    assert sandbox.request_count("/bc") == before_bc + 2
    assert sandbox.request_count("/dataverse") == before_dv + 1
    assert sandbox.request_count("/bc/v2.0") == before_bc + 2
    state = http.get(f"{sandbox.url}/_sandbox/state").json()
    assert state["business_central"]["customers"] == 30
    assert state["dataverse"]["accounts"] == len(sandbox.state.dv_rows("accounts"))
    assert state["faults"] == []
    assert state["requests"]["/bc"] == sandbox.request_count("/bc")


def test_deep_links_lead_to_a_page(http: httpx.Client, sandbox: SandboxServer) -> None:
    page = http.get(
        f"{sandbox.bc_web_url}/",
        params={"company": "CRONUS International Ltd.", "page": "21", "filter": "'No.' IS '10000'"},
    )
    assert page.status_code == 200
    assert sandbox.state.bc_rows("customers")[0]["displayName"].replace("'", "&#x27;") in page.text
    account = sandbox.state.dv_rows("accounts")[0]
    record = http.get(
        f"{sandbox.dataverse_url}/main.aspx",
        params={"pagetype": "entityrecord", "etn": "account", "id": account["accountid"]},
    )
    assert record.status_code == 200
    missing = http.get(
        f"{sandbox.dataverse_url}/main.aspx",
        params={"pagetype": "entityrecord", "etn": "account", "id": "00000000-0000-0000-0000-000000000000"},
    )
    assert missing.status_code == 404
    assert "Record Is Unavailable" in missing.text
