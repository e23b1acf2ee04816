"""The `$select` lists built from the mappings: complete for what the engine reads, accepted by the APIs."""

from __future__ import annotations

import httpx

from bot.connectors import BusinessCentralClient, DataverseClient, TokenProvider
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from bot.sync.columns import columns_by_table, filter_columns
from bot.sync.mappings import CONTACT, DEFAULT_SPECS, SALESPEOPLE
from storage.models import System

BC = System.BUSINESS_CENTRAL
DV = System.DATAVERSE


def test_table_filters_are_probed_for_every_field_they_read() -> None:
    assert filter_columns(CONTACT, BC) == ["type", "companyNumber"]
    assert filter_columns(CONTACT, DV) == ["_parentcustomerid_value", "statecode"]
    assert set(filter_columns(SALESPEOPLE, DV)) == {"isdisabled", "applicationid"}


def test_every_mapped_matched_and_looked_up_field_is_selected() -> None:
    columns = columns_by_table()
    for spec in DEFAULT_SPECS:
        for system in (BC, DV):
            selected = set(columns[system][spec.side(system).entity_set])
            for field_map in spec.fields:
                assert set(field_map.fields_of(system)) <= selected, (spec.name, field_map)
            for lookup in spec.lookups:
                assert (lookup.bc if system is BC else lookup.value_field) in selected
            assert set(filter_columns(spec, system)) <= selected
    assert "_transactioncurrencyid_value" in columns[DV]["accounts"]
    assert "currencyCode" in columns[BC]["customers"]


def test_both_apis_accept_every_select_list() -> None:
    columns = columns_by_table()
    with SandboxServer(port=0, records=10) as sandbox, httpx.Client(timeout=5.0) as http:
        tokens = TokenProvider(sandbox.token_url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
        bc = BusinessCentralClient(http, api_url=sandbox.bc_api_url, tokens=tokens, columns=columns[BC])
        dv = DataverseClient(http, environment_url=sandbox.dataverse_url, tokens=tokens, columns=columns[DV])
        for client, system in ((bc, BC), (dv, DV)):
            for table, names in columns[system].items():
                rows = [record for page in client.iter_changed(table) for record in page]
                assert rows, table
                assert set(names) <= set(rows[0].fields), table
        bc.close()
        dv.close()
        tokens.close()
