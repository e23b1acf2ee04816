"""Business Central API v2.0 over real loopback HTTP: reads, paging, query options, writes, validation."""

from __future__ import annotations

import httpx

from bot.sandbox import SandboxServer


def _error(response: httpx.Response) -> tuple[str, str]:
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert "CorrelationId:" in error["message"]
    return error["code"], error["message"]


def test_companies_lists_the_seeded_company(sandbox: SandboxServer, bc: httpx.Client) -> None:
    response = bc.get(f"{sandbox.bc_api_url}/companies")
    assert response.status_code == 200
    [company] = response.json()["value"]
    assert company["id"] == sandbox.company_id
    assert company["name"] == "CRONUS International Ltd."


def test_paging_follows_next_links_across_several_pages(bc: httpx.Client) -> None:
    url: str | None = "customers"
    numbers: list[str] = []
    pages = 0
    while url:
        response = bc.get(url, headers={"Prefer": "odata.maxpagesize=7"})
        assert response.status_code == 200
        assert response.headers["Preference-Applied"] == "odata.maxpagesize=7"
        body = response.json()
        assert len(body["value"]) <= 7
        numbers += [row["number"] for row in body["value"]]
        url = body.get("@odata.nextLink")
        pages += 1
    assert pages == 5
    assert len(numbers) == len(set(numbers)) == 30


def test_every_entity_carries_an_etag_and_the_documented_fields(bc: httpx.Client) -> None:
    customer = bc.get("customers", params={"$top": "1"}).json()["value"][0]
    assert customer["@odata.etag"].startswith('W/"')
    expected = {
        "id",
        "number",
        "displayName",
        "type",
        "addressLine1",
        "addressLine2",
        "city",
        "state",
        "country",
        "postalCode",
        "phoneNumber",
        "email",
        "website",
        "salespersonCode",
        "creditLimit",
        "currencyId",
        "currencyCode",
        "blocked",
        "lastModifiedDateTime",
    }
    assert expected <= set(customer)
    for table in ("contacts", "currencies", "currencyExchangeRates", "salespeople", "items"):
        rows = bc.get(table).json()["value"]
        assert rows and all("@odata.etag" in row and "lastModifiedDateTime" in row for row in rows)


def test_filter_select_orderby_and_top(bc: httpx.Client) -> None:
    everyone = bc.get("customers", params={"$orderby": "lastModifiedDateTime desc"}).json()["value"]
    middle = sorted(row["lastModifiedDateTime"] for row in everyone)[14]
    newer = bc.get(
        "customers", params={"$filter": f"lastModifiedDateTime gt {middle}", "$select": "number,displayName"}
    ).json()["value"]
    assert len(newer) == 15
    assert set(newer[0]) == {"@odata.etag", "id", "number", "displayName"}
    one = bc.get("customers", params={"$filter": "number eq '20000'"}).json()["value"]
    assert [row["number"] for row in one] == ["20000"]
    both = bc.get(
        "customers", params={"$filter": "number eq '20000' or (number ge '30000' and number le '30000')"}
    )
    assert sorted(row["number"] for row in both.json()["value"]) == ["20000", "30000"]
    top = bc.get("customers", params={"$top": "3", "$orderby": "lastModifiedDateTime desc"}).json()["value"]
    assert [row["id"] for row in top] == [row["id"] for row in everyone[:3]]


def test_unsupported_query_is_refused_in_bc_shape(bc: httpx.Client) -> None:
    function = bc.get("customers", params={"$filter": "contains(displayName,'Trey')"})
    assert function.status_code == 400
    assert _error(function)[0] == "BadRequest"
    unknown = bc.get("customers", params={"$filter": "colour eq 'red'"})
    assert "Could not find a property named 'colour' on type 'Microsoft.NAV.customer'" in _error(unknown)[1]
    typed = bc.get("customers", params={"$filter": "number eq 10000"})
    assert "incompatible types" in _error(typed)[1]
    syntax = bc.get("customers", params={"$filter": "number eq"})
    assert syntax.status_code == 400


def test_get_by_id_and_not_found(bc: httpx.Client) -> None:
    first = bc.get("customers", params={"$top": "1"}).json()["value"][0]
    response = bc.get(f"customers({first['id']})")
    assert response.status_code == 200
    assert response.json()["displayName"] == first["displayName"]
    missing = bc.get("customers(00000000-0000-0000-0000-000000000001)")
    assert missing.status_code == 404
    assert _error(missing)[0] == "BadRequest_NotFound"


def test_unknown_entity_and_bad_json(bc: httpx.Client) -> None:
    unknown = bc.get("vendors")
    assert unknown.status_code == 404
    assert _error(unknown)[0] == "BadRequest_NotFound"
    bad = bc.post("customers", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert _error(bad)[0] == "BadRequest"
    extra = bc.post("customers", json={"displayName": "X", "colour": "red"})
    assert extra.status_code == 400
    assert "The property 'colour' does not exist" in _error(extra)[1]


def test_create_assigns_the_next_number_and_answers_201(bc: httpx.Client) -> None:
    response = bc.post("customers", json={"displayName": "Sandbox Test Ltd.", "currencyCode": "EUR"})
    assert response.status_code == 201
    created = response.json()
    assert created["number"] == "310000"
    assert created["currencyId"] != "00000000-0000-0000-0000-000000000000"
    assert response.headers["Location"].endswith(f"customers({created['id']})")
    assert bc.get(f"customers({created['id']})").json()["displayName"] == "Sandbox Test Ltd."


def test_validation_like_business_central(bc: httpx.Client) -> None:
    currency = bc.post("customers", json={"displayName": "X", "currencyCode": "XYZ"})
    assert currency.status_code == 400
    code, message = _error(currency)
    assert code == "Application_DialogException"
    assert message.startswith('The "currencyCode" does not match to a Currency.')
    salesperson = bc.post("customers", json={"displayName": "X", "salespersonCode": "ZZ"})
    assert _error(salesperson)[0] == "Internal_InvalidTableRelation"
    assert "Salesperson Code of table Customer contains a value (ZZ)" in _error(salesperson)[1]
    duplicate = bc.post("customers", json={"displayName": "X", "number": "10000"})
    assert duplicate.status_code == 400
    assert _error(duplicate)[0] == "Internal_EntityWithSameKeyExists"
    too_long = bc.post("customers", json={"displayName": "X" * 101})
    assert _error(too_long)[0] == "Application_StringExceededLength"


def test_etag_changes_on_every_write_and_stale_if_match_is_refused(bc: httpx.Client) -> None:
    customer = bc.get("customers", params={"$top": "1"}).json()["value"][0]
    first = bc.patch(
        f"customers({customer['id']})", json={"city": "Brno"}, headers={"If-Match": customer["@odata.etag"]}
    )
    assert first.status_code == 200
    assert first.json()["@odata.etag"] != customer["@odata.etag"]
    assert first.json()["lastModifiedDateTime"] >= customer["lastModifiedDateTime"]
    stale = bc.patch(
        f"customers({customer['id']})", json={"city": "Praha"}, headers={"If-Match": customer["@odata.etag"]}
    )
    assert stale.status_code == 409
    code, message = _error(stale)
    assert code == "Request_EntityChanged"
    assert message.startswith("Another user has already changed the record.")
    star = bc.patch(f"customers({customer['id']})", json={"city": "Praha"}, headers={"If-Match": "*"})
    assert star.status_code == 200
    assert star.json()["@odata.etag"] != first.json()["@odata.etag"]


def test_patch_and_delete_require_if_match(bc: httpx.Client) -> None:
    customer = bc.get("customers", params={"$top": "1"}).json()["value"][0]
    assert bc.patch(f"customers({customer['id']})", json={"city": "Brno"}).status_code == 428
    assert bc.delete(f"customers({customer['id']})").status_code == 428
    deleted = bc.delete(f"customers({customer['id']})", headers={"If-Match": customer["@odata.etag"]})
    assert deleted.status_code == 204
    assert bc.get(f"customers({customer['id']})").status_code == 404


def test_contacts_information_ties_company_contacts_and_their_persons_to_customers(bc: httpx.Client) -> None:
    relations = bc.get("contactsInformation").json()["value"]
    customers = {c["id"] for c in bc.get("customers").json()["value"]}
    companies = [r for r in relations if r["contactType"] == "Company"]
    assert companies and all(
        r["relatedType"] == "Customer" and r["relatedId"] in customers for r in relations
    )
    assert set(relations[0]) == {
        "contactId",
        "contactNumber",
        "contactName",
        "contactType",
        "relatedId",
        "relatedType",
    }
    persons = [r for r in relations if r["contactType"] == "Person"]
    by_number = {c["number"]: c for c in bc.get("contacts").json()["value"]}
    for person in persons[:5]:
        company_number = by_number[person["contactNumber"]]["companyNumber"]
        [company] = [r for r in companies if r["contactNumber"] == company_number]
        assert company["relatedId"] == person["relatedId"]
    refused = bc.post("contactsInformation", json={"contactId": "x"})
    assert refused.status_code == 405


def test_a_new_customer_gets_its_company_contact_and_business_relation(bc: httpx.Client) -> None:
    customer = bc.post("customers", json={"displayName": "Brand New Traders"}).json()
    relations = bc.get("contactsInformation", params={"$filter": f"relatedId eq {customer['id']}"}).json()[
        "value"
    ]
    [company] = relations
    assert company["contactType"] == "Company" and company["contactName"] == "Brand New Traders"
    contact = bc.get(f"contacts({company['contactId']})").json()
    assert contact["type"] == "Company" and contact["companyNumber"] == contact["number"]
