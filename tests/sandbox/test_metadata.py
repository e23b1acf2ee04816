"""What real clients read first, over real HTTP: Dataverse `EntityDefinitions` and `Attributes`, `$metadata`
of both APIs (consistent with the tables served), and Business Central's URL without the tenant segment."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from bot.sandbox import SANDBOX_ENVIRONMENT, SANDBOX_TENANT, SandboxServer
from bot.sandbox.schema import BC_ENTITIES, DV_ENTITIES
from tests.sandbox.conftest import BC_SCOPE, fetch_token

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def test_entity_definitions_with_select_and_filter(dv: httpx.Client) -> None:
    response = dv.get(
        "EntityDefinitions",
        params={
            "$select": "LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute",
            "$filter": "LogicalName eq 'account'",
        },
    )
    assert response.status_code == 200
    [account] = response.json()["value"]
    assert {key: value for key, value in account.items() if not key.startswith("@")} == {
        "MetadataId": account["MetadataId"],
        "LogicalName": "account",
        "EntitySetName": "accounts",
        "PrimaryIdAttribute": "accountid",
        "PrimaryNameAttribute": "name",
    }
    everything = dv.get("EntityDefinitions", params={"$select": "LogicalName,EntitySetName"}).json()["value"]
    assert {row["EntitySetName"] for row in everything} == set(DV_ENTITIES)
    either = dv.get(
        "EntityDefinitions", params={"$filter": "LogicalName eq 'contact' or EntitySetName eq 'products'"}
    ).json()["value"]
    assert sorted(row["LogicalName"] for row in either) == ["contact", "product"]
    assert dv.get("EntityDefinitions", params={"$select": "Nope"}).status_code == 400


def test_single_entity_definition_by_logical_name_and_by_metadata_id(dv: httpx.Client) -> None:
    contact = dv.get("EntityDefinitions(LogicalName='contact')").json()
    assert contact["EntitySetName"] == "contacts" and contact["PrimaryNameAttribute"] == "fullname"
    assert contact["DisplayName"]["UserLocalizedLabel"]["Label"] == "Contact"
    again = dv.get(f"EntityDefinitions({contact['MetadataId']})", params={"$select": "LogicalName"}).json()
    assert again["LogicalName"] == "contact" and "EntitySetName" not in again
    missing = dv.get("EntityDefinitions(LogicalName='nothing')")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "0x80040217"


def test_attributes_name_the_lookups_and_option_sets(dv: httpx.Client) -> None:
    rows = dv.get("EntityDefinitions(LogicalName='contact')/Attributes").json()["value"]
    by_name = {row["LogicalName"]: row for row in rows}
    assert by_name["contactid"]["IsPrimaryId"] and by_name["fullname"]["IsPrimaryName"]
    assert by_name["parentcustomerid"]["AttributeType"] == "Customer"
    assert by_name["parentcustomerid"]["Targets"] == ["account", "contact"]
    assert by_name["lastname"]["MaxLength"] == 50
    one = dv.get("EntityDefinitions(LogicalName='account')/Attributes(LogicalName='transactioncurrencyid')")
    assert one.json()["Targets"] == ["transactioncurrency"]
    picklists = dv.get(
        "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
    ).json()["value"]
    options = {row["LogicalName"]: row["OptionSet"]["Options"] for row in picklists}
    relationship = {
        option["Value"]: option["Label"]["UserLocalizedLabel"]["Label"]
        for option in options["customertypecode"]
    }
    assert relationship[3] == "Customer" and relationship[11] == "Vendor" and len(relationship) == 12


def test_dataverse_metadata_document_matches_the_served_tables(dv: httpx.Client) -> None:
    response = dv.get("$metadata")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    schema = root.find(f".//{_EDM}Schema")
    assert schema is not None and schema.get("Namespace") == "Microsoft.Dynamics.CRM"
    types = {element.get("Name"): element for element in schema.findall(f"{_EDM}EntityType")}
    sets = {element.get("Name") for element in schema.iter(f"{_EDM}EntitySet")}
    assert sets == set(DV_ENTITIES)
    for entity in DV_ENTITIES.values():
        properties = {element.get("Name") for element in types[entity.type_name].findall(f"{_EDM}Property")}
        assert properties == set(entity.field_names)
    navigation = {element.get("Name") for element in types["contact"].findall(f"{_EDM}NavigationProperty")}
    assert {"parentcustomerid_account", "parentcustomerid_contact", "transactioncurrencyid"} <= navigation


def test_business_central_metadata_document(sandbox: SandboxServer, bc: httpx.Client) -> None:
    response = bc.get(f"{sandbox.bc_api_url}/$metadata")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    types = {element.get("Name"): element for element in root.iter(f"{_EDM}EntityType")}
    company = {element.get("Name") for element in types["company"].findall(f"{_EDM}NavigationProperty")}
    assert company == set(BC_ENTITIES)
    customer = {element.get("Name") for element in types["customer"].findall(f"{_EDM}Property")}
    assert customer == set(BC_ENTITIES["customers"].field_names)


def test_business_central_without_the_tenant_segment(sandbox: SandboxServer) -> None:
    token = fetch_token(sandbox, BC_SCOPE)
    base = f"{sandbox.url}/bc/v2.0/{SANDBOX_ENVIRONMENT}/api/v2.0"
    assert SANDBOX_TENANT not in base
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
        companies = client.get(f"{base}/companies").json()
        assert companies["value"][0]["id"] == sandbox.company_id
        assert SANDBOX_TENANT not in companies["@odata.context"]
        page = client.get(
            f"{base}/companies({sandbox.company_id})/customers",
            headers={"Prefer": "odata.maxpagesize=10"},
        ).json()
        assert len(page["value"]) == 10 and page["@odata.nextLink"].startswith(base)
        following = client.get(page["@odata.nextLink"]).json()
        assert following["value"][0]["number"] not in {row["number"] for row in page["value"]}
        assert client.get(f"{base}/$metadata").status_code == 200
        wrong = client.get(f"{sandbox.url}/bc/v2.0/Sandbox/api/v2.0/companies")
        assert wrong.status_code == 404 and "environment 'Sandbox'" in wrong.json()["error"]["message"]


def test_create_multiple_and_update_multiple(sandbox: SandboxServer, dv: httpx.Client) -> None:
    created = dv.post(
        "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={
            "Targets": [
                {"@odata.type": "Microsoft.Dynamics.CRM.account", "name": f"Bulk {i}"} for i in range(3)
            ]
        },
    )
    assert created.status_code == 200
    ids = created.json()["Ids"]
    assert len(ids) == 3
    updated = dv.post(
        "accounts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json={
            "Targets": [{"accountid": ids[0], "telephone1": "1"}, {"accountid": ids[1], "telephone1": "2"}]
        },
    )
    assert updated.status_code == 204
    assert dv.get(f"accounts({ids[1]})").json()["telephone1"] == "2"
    before = len(sandbox.state.dv_rows("accounts"))
    failing = dv.post(
        "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [{"name": "Fine"}, {"accountid": ids[0], "name": "Duplicate"}]},
    )
    assert failing.status_code == 412 and failing.json()["error"]["code"] == "0x80040237"
    assert len(sandbox.state.dv_rows("accounts")) == before  # all or nothing
