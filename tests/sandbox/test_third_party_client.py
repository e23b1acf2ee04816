"""A Dataverse client nobody here wrote (Microsoft's PowerPlatform-Dataverse-Client, from the package
registry) against the sandbox, unchanged: only the base URL and a token from the sandbox's token endpoint.

That client refuses plain HTTP (Dataverse only serves HTTPS), resolves each table's entity set and primary
key from `EntityDefinitions` before any record call and reads picklist metadata before writes, so the
sandbox serves TLS here with a certificate from a throwaway CA that `requests` is told to trust.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import trustme
from azure.core.credentials import AccessToken, TokenCredential
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.core.errors import HttpError

from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer


class SandboxCredential:
    """An azure-core TokenCredential that signs in at the sandbox's client-credentials endpoint."""

    def __init__(self, token_url: str, ca_file: str) -> None:
        self.token_url = token_url
        self.ca_file = ca_file
        self.requests = 0

    def get_token(self, *scopes: str, **_options: Any) -> AccessToken:
        """A bearer token for the first scope (`https://…/.default`)."""
        self.requests += 1
        response = httpx.post(
            self.token_url,
            verify=ssl.create_default_context(cafile=self.ca_file),
            data={
                "grant_type": "client_credentials",
                "client_id": SANDBOX_CLIENT_ID,
                "client_secret": SANDBOX_CLIENT_SECRET,
                "scope": scopes[0],
            },
        )
        response.raise_for_status()
        body = response.json()
        return AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))


@pytest.fixture(scope="module")
def tls_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, str]]:
    """A sandbox serving HTTPS with a certificate for 127.0.0.1, and the CA file that trusts it."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    server = SandboxServer(records=20, seed=5, tls=context).start()
    yield server, str(ca_file)
    server.stop()


@pytest.fixture
def client(
    tls_sandbox: tuple[SandboxServer, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[DataverseClient]:
    """Microsoft's client pointed at the sandbox's Dataverse URL."""
    server, ca_file = tls_sandbox
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
    credential = SandboxCredential(server.token_url, ca_file)
    assert isinstance(credential, TokenCredential)
    with DataverseClient(server.dataverse_url, credential) as dataverse:
        yield dataverse


def test_create_read_update_delete(client: DataverseClient, tls_sandbox: tuple[SandboxServer, str]) -> None:
    server, _ = tls_sandbox
    account_id = client.records.create("account", {"name": "Written By Microsoft's Client"})
    stored = server.state.dv_get("accounts", account_id)
    assert stored is not None and stored["_modifiedby_value"] == server.integration_user_id
    record = client.records.retrieve("account", account_id, select=["name", "telephone1"])
    assert record["name"] == "Written By Microsoft's Client" and record["telephone1"] is None
    client.records.update("account", account_id, {"telephone1": "+31 20 555 0100"})
    assert client.records.retrieve("account", account_id, select=["telephone1"])["telephone1"] == (
        "+31 20 555 0100"
    )
    contact_id = client.records.create(
        "contact", {"lastname": "Client", "parentcustomerid_account@odata.bind": f"/accounts({account_id})"}
    )
    assert client.records.retrieve("contact", contact_id)["_parentcustomerid_value"] == account_id
    client.records.delete("contact", contact_id)
    client.records.delete("account", account_id)
    assert client.records.retrieve("account", account_id) is None  # the client's reading of a 404
    assert server.state.dv_get("accounts", account_id) is None


def test_picklist_labels_resolve_through_the_metadata(
    client: DataverseClient, tls_sandbox: tuple[SandboxServer, str]
) -> None:
    server, _ = tls_sandbox
    vendor_id = client.records.create("account", {"name": "Labelled Vendor", "customertypecode": "Vendor"})
    stored = server.state.dv_get("accounts", vendor_id)
    assert stored is not None and stored["customertypecode"] == 11


def test_pages_follow_the_next_link(client: DataverseClient, tls_sandbox: tuple[SandboxServer, str]) -> None:
    server, _ = tls_sandbox
    pages = list(client.records.list_pages("account", select=["name"], page_size=4))
    assert len(pages) > 2 and all(len(page) <= 4 for page in pages)
    names = [record["name"] for page in pages for record in page]
    assert len(names) == len(set(names)) == len(server.state.dv_rows("accounts"))
    active = client.records.list("account", filter="statecode eq 0", select=["name"], page_size=5)
    assert len(active) == sum(1 for row in server.state.dv_rows("accounts") if row["statecode"] == 0)


def test_batches_with_a_change_set_and_bulk_create(
    client: DataverseClient, tls_sandbox: tuple[SandboxServer, str]
) -> None:
    server, _ = tls_sandbox
    batch = client.batch.new()
    with batch.changeset() as change_set:
        parent = change_set.records.create("account", {"name": "Batch Parent (client)"})
        change_set.records.create(
            "contact", {"lastname": "Batch Child", "parentcustomerid_account@odata.bind": parent}
        )
    batch.records.create("account", {"name": "Batch Single (client)"})
    result = batch.execute()
    assert [response.status_code for response in result.responses] == [204, 204, 204]
    accounts = {row["name"]: row for row in server.state.dv_rows("accounts")}
    child = next(row for row in server.state.dv_rows("contacts") if row["lastname"] == "Batch Child")
    assert child["_parentcustomerid_value"] == accounts["Batch Parent (client)"]["accountid"]
    assert "Batch Single (client)" in accounts

    updates = client.batch.new()
    updates.records.update(
        "account", accounts["Batch Single (client)"]["accountid"], {"websiteurl": "x.test"}
    )
    updates.records.delete("account", accounts["Batch Parent (client)"]["accountid"])
    assert [response.status_code for response in updates.execute().responses] == [204, 204]
    assert server.state.dv_get("accounts", accounts["Batch Parent (client)"]["accountid"]) is None

    ids = client.records.create("account", [{"name": f"Bulk (client) {index}"} for index in range(3)])
    assert len(ids) == 3 and all(server.state.dv_get("accounts", row_id) for row_id in ids)


def test_the_sandbox_error_reaches_the_client_in_dataverse_words(client: DataverseClient) -> None:
    with pytest.raises(HttpError) as refused:
        client.records.create(
            "contact",
            {
                "lastname": "Orphan",
                "parentcustomerid_account@odata.bind": "/accounts(00000000-0000-0000-0000-0000000000aa)",
            },
        )
    assert refused.value.status_code == 404
    assert "account With Id = 00000000-0000-0000-0000-0000000000aa Does Not Exist" in str(refused.value)
