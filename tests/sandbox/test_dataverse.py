"""Dataverse Web API v9.2 over real loopback HTTP: paging, filters, writes, lookups, concurrency, users."""

from __future__ import annotations

import httpx

from bot.sandbox import SANDBOX_CLIENT_ID, SandboxServer


def _error(response: httpx.Response) -> tuple[str, str]:
    error = response.json()["error"]
    return error["code"], error["message"]


def _currency_id(dv: httpx.Client, code: str) -> str:
    rows = dv.get("transactioncurrencies", params={"$filter": f"isocurrencycode eq '{code}'"}).json()["value"]
    return str(rows[0]["transactioncurrencyid"])


def test_paging_with_maxpagesize_and_opaque_next_link(dv: httpx.Client) -> None:
    url: str | None = "accounts?$select=name"
    names: list[str] = []
    while url:
        response = dv.get(url, headers={"Prefer": "odata.maxpagesize=5"})
        assert response.status_code == 200
        assert response.headers["Preference-Applied"] == "odata.maxpagesize=5"
        body = response.json()
        names += [row["name"] for row in body["value"]]
        url = body.get("@odata.nextLink")
        if url:
            assert "$skiptoken=" in url and "$skip=" not in url
            assert "pagingcookie" in httpx.URL(url).params["$skiptoken"]
    total = len(dv.get("accounts").json()["value"])
    assert len(names) == len(set(names)) == total > 10


def test_skip_is_not_supported(dv: httpx.Client) -> None:
    response = dv.get("accounts", params={"$skip": "5"})
    assert response.status_code == 400
    assert _error(response)[0] == "0x80060888"


def test_rows_carry_row_version_etags_and_lookup_values(dv: httpx.Client) -> None:
    account = dv.get("accounts", params={"$top": "1"}).json()["value"][0]
    assert account["@odata.etag"] == f'W/"{account["versionnumber"]}"'
    assert {"_transactioncurrencyid_value", "_ownerid_value", "_modifiedby_value", "modifiedon"} <= set(
        account
    )


def test_filter_on_modifiedon_name_and_statecode(dv: httpx.Client) -> None:
    rows = dv.get("accounts").json()["value"]
    pivot = sorted(row["modifiedon"] for row in rows)[len(rows) // 2]
    newer = dv.get("accounts", params={"$filter": f"modifiedon gt {pivot} and statecode eq 0"}).json()[
        "value"
    ]
    assert newer and all(row["modifiedon"] > pivot for row in newer)
    name = rows[0]["name"].replace("'", "''")
    by_name = dv.get("accounts", params={"$filter": f"name eq '{name}'", "$select": "name"}).json()["value"]
    assert [row["name"] for row in by_name] == [rows[0]["name"]]
    assert set(by_name[0]) == {"@odata.etag", "accountid", "name"}


def test_unsupported_filter_and_unknown_entity_in_dataverse_shape(dv: httpx.Client) -> None:
    function = dv.get("accounts", params={"$filter": "startswith(name,'A')"})
    assert function.status_code == 400
    assert _error(function)[0] == "0x80060888"
    assert dv.get("leads").status_code == 404
    bad_json = dv.post("accounts", content=b"{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert set(bad_json.json()["error"]) == {"code", "message"}


def test_create_answers_204_with_entity_id_or_201_with_representation(
    sandbox: SandboxServer, dv: httpx.Client
) -> None:
    plain = dv.post("accounts", json={"name": "Plain Ltd."})
    assert plain.status_code == 204
    entity_url = plain.headers["OData-EntityId"]
    assert entity_url.startswith(f"{sandbox.dataverse_url}/api/data/v9.2/accounts(")
    created = dv.get(entity_url).json()
    assert created["_modifiedby_value"] == sandbox.integration_user_id
    assert created["_ownerid_value"] == sandbox.integration_user_id
    eur = _currency_id(dv, "EUR")
    full = dv.post(
        "accounts",
        json={"name": "Full Ltd.", "transactioncurrencyid@odata.bind": f"/transactioncurrencies({eur})"},
        headers={"Prefer": "return=representation"},
    )
    assert full.status_code == 201
    assert full.json()["_transactioncurrencyid_value"] == eur


def test_bind_to_a_missing_row_is_refused(dv: httpx.Client) -> None:
    response = dv.post(
        "contacts",
        json={
            "lastname": "Nobody",
            "parentcustomerid_account@odata.bind": "/accounts(00000000-0000-0000-0000-0000000000aa)",
        },
    )
    assert response.status_code == 404
    code, message = _error(response)
    assert code == "0x80040217"
    assert "Does Not Exist" in message


def test_contact_fullname_and_parent_account(dv: httpx.Client) -> None:
    account = dv.get("accounts", params={"$top": "1"}).json()["value"][0]
    response = dv.post(
        "contacts",
        json={
            "firstname": "Anna",
            "lastname": "Novak",
            "parentcustomerid_account@odata.bind": f"/accounts({account['accountid']})",
        },
        headers={"Prefer": "return=representation"},
    )
    assert response.json()["fullname"] == "Anna Novak"
    assert response.json()["_parentcustomerid_value"] == account["accountid"]


def test_patch_with_stale_if_match_is_412(dv: httpx.Client) -> None:
    account = dv.get("accounts", params={"$top": "1"}).json()["value"][0]
    url = f"accounts({account['accountid']})"
    assert (
        dv.patch(url, json={"telephone1": "1"}, headers={"If-Match": account["@odata.etag"]}).status_code
        == 204
    )
    after = dv.get(url).json()
    assert after["@odata.etag"] != account["@odata.etag"]
    stale = dv.patch(url, json={"telephone1": "2"}, headers={"If-Match": account["@odata.etag"]})
    assert stale.status_code == 412
    assert _error(stale)[0] == "0x80060882"
    assert dv.patch(url, json={"telephone1": "3"}).status_code == 204


def test_patch_upserts_unless_if_match_star(dv: httpx.Client) -> None:
    new_id = "6f1c0000-0000-4000-8000-000000000001"
    assert (
        dv.patch(f"accounts({new_id})", json={"name": "Upserted"}, headers={"If-Match": "*"}).status_code
        == 404
    )
    assert dv.patch(f"accounts({new_id})", json={"name": "Upserted"}).status_code == 204
    assert dv.get(f"accounts({new_id})").json()["name"] == "Upserted"
    assert dv.delete(f"accounts({new_id})").status_code == 204
    assert dv.get(f"accounts({new_id})").status_code == 404


def test_transactioncurrency_needs_a_positive_exchange_rate(dv: httpx.Client) -> None:
    missing = dv.post(
        "transactioncurrencies", json={"isocurrencycode": "DKK", "currencyname": "Danish krone"}
    )
    assert missing.status_code == 400
    assert "Exchange rate" in _error(missing)[1]
    negative = dv.post("transactioncurrencies", json={"isocurrencycode": "DKK", "exchangerate": -1})
    assert negative.status_code == 400
    created = dv.post(
        "transactioncurrencies", json={"isocurrencycode": "DKK", "currencyname": "Krone", "exchangerate": 6.9}
    )
    assert created.status_code == 204


def test_who_am_i_and_the_application_user_with_roles(sandbox: SandboxServer, dv: httpx.Client) -> None:
    me = dv.get("WhoAmI").json()
    assert me["UserId"] == sandbox.integration_user_id
    user = dv.get(
        f"systemusers({me['UserId']})",
        params={
            "$select": "fullname,accessmode,isdisabled",
            "$expand": "systemuserroles_association($select=name,roleid)",
        },
    ).json()
    assert user["accessmode"] == 4
    assert [role["name"] for role in user["systemuserroles_association"]] == [
        "Business Central Dataverse Integration"
    ]
    by_app = dv.get(
        "systemusers",
        params={
            "$filter": f"applicationid eq {SANDBOX_CLIENT_ID}",
            "$expand": "systemuserroles_association($select=name)",
        },
    ).json()["value"]
    assert [row["systemuserid"] for row in by_app] == [sandbox.integration_user_id]
    roles = {row["name"] for row in dv.get("roles").json()["value"]}
    assert "System Administrator" in roles


def _privileges(dv: httpx.Client, user_id: str) -> httpx.Response:
    return dv.get(f"systemusers({user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()")


def test_retrieve_user_privileges_lists_what_the_integration_role_grants(
    sandbox: SandboxServer, dv: httpx.Client
) -> None:
    response = _privileges(dv, sandbox.integration_user_id)
    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse")
    privileges = body["RolePrivileges"]
    expected = {
        f"prv{action}{entity}"
        for entity in ("Account", "Contact", "TransactionCurrency", "Product")
        for action in ("Create", "Read", "Write", "Delete", "Append", "AppendTo")
    } | {"prvReadUser"}
    assert {p["PrivilegeName"] for p in privileges} == expected
    assert len(privileges) == len(expected)
    business_unit = dv.get("WhoAmI").json()["BusinessUnitId"]
    for privilege in privileges:
        assert set(privilege) == {"Depth", "PrivilegeId", "BusinessUnitId", "PrivilegeName"}
        assert privilege["Depth"] == "Global" and privilege["BusinessUnitId"] == business_unit
    ids = {p["PrivilegeId"] for p in privileges}
    assert len(ids) == len(privileges)
    again = _privileges(dv, sandbox.integration_user_id).json()["RolePrivileges"]
    assert {p["PrivilegeId"] for p in again} == ids  # stable ids


def test_retrieve_user_privileges_of_other_users_and_refusals(
    sandbox: SandboxServer, dv: httpx.Client
) -> None:
    editor = sandbox.state.identities.editor_user_id  # Salesperson, Sales Manager and Basic User
    held = {p["PrivilegeName"]: p["Depth"] for p in _privileges(dv, editor).json()["RolePrivileges"]}
    assert held["prvDeleteAccount"] == "Local" and held["prvCreateAccount"] == "Local"  # widest depth wins
    assert "prvCreateProduct" not in held and held["prvReadProduct"] == "Global"
    sandbox.set_fault("admin-integration-user")
    admin = {
        p["PrivilegeName"] for p in _privileges(dv, sandbox.integration_user_id).json()["RolePrivileges"]
    }
    assert {"prvDeleteTransactionCurrency", "prvAssignAccount", "prvWriteUser", "prvReadRole"} <= admin
    sandbox.clear_faults()
    missing = _privileges(dv, "00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert _error(missing)[0] == "0x80040217"
    url = f"systemusers({sandbox.integration_user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
    assert dv.post(url, json={}).status_code == 405
    on_account = dv.get(
        f"accounts({sandbox.integration_user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
    )
    assert on_account.status_code == 404
    unknown = dv.get(f"systemusers({sandbox.integration_user_id})/Microsoft.Dynamics.CRM.Unknown()")
    assert unknown.status_code == 404 and _error(unknown)[0] == "0x8006088a"
