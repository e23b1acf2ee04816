"""The doctor against Protocol-typed fakes: each check, its fix, and that one failure never stops others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session

from bot.config import Settings
from bot.connectors.auth import BUSINESS_CENTRAL_SCOPE
from bot.connectors.errors import AuthenticationFailed, ConnectionFailed, InvalidData, NotFound, Throttled
from bot.connectors.models import Record, SystemName, SystemUser, WhoAmI
from bot.doctor import CHECK_TITLES, CHECKS, CheckResult, format_checks_json, run_doctor
from storage.models import Coupling, Direction, Mapping

DV = "https://org.crm4.dynamics.com"
BC_WEB = "https://businesscentral.dynamics.com/tenant/production"
COMPANY = "c0000000-0000-4000-8000-000000000001"
USER_ID = "u0000000-0000-4000-8000-000000000001"
CLIENT_ID = "a0000000-0000-4000-8000-000000000001"
EUR_ID = "e0000000-0000-4000-8000-000000000001"
USD_ID = "e0000000-0000-4000-8000-000000000002"
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
ADMIN_MODE = (
    "User does not have required privileges (or role membership) to access the org "
    "when it is in Admin Only mode."
)


def _record(system: SystemName, table: str, record_id: str, **fields: Any) -> Record:
    return Record(system=system, table=table, id=record_id, fields=fields, etag=None, modified_at=NOW)


class FakeTokens:
    """Token provider whose scopes can be made to refuse."""

    def __init__(self) -> None:
        self.refusals: dict[str, Exception] = {}

    def access_token(self, scope: str) -> str:
        if scope in self.refusals:
            raise self.refusals[scope]
        return "token"


class FakeReader:
    """Tables of records, or an error per table."""

    def __init__(self, system: SystemName) -> None:
        self.system = system
        self.tables: dict[str, list[Record]] = {}
        self.errors: dict[str, Exception] = {}

    def iter_changed(
        self,
        table: str,
        *,
        since: datetime | None = None,
        select: list[str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Record]]:
        if table in self.errors:
            raise self.errors[table]
        rows = self.tables.get(table, [])
        if rows:
            yield rows


class FakeBusinessCentral(FakeReader):
    def __init__(self) -> None:
        super().__init__("business_central")
        self.company_list: list[dict[str, Any]] = [{"id": COMPANY, "name": "CRONUS International Ltd."}]
        self.companies_error: Exception | None = None
        self.tables = {
            "customers": [
                _record("business_central", "customers", "cu1", currencyCode=""),
                _record("business_central", "customers", "cu2", currencyCode="EUR"),
                _record("business_central", "customers", "cu3", currencyCode="USD"),
            ],
            "currencies": [
                _record("business_central", "currencies", EUR_ID, code="EUR"),
                _record("business_central", "currencies", USD_ID, code="USD"),
            ],
            "currencyExchangeRates": [
                _record("business_central", "currencyExchangeRates", "r1", currencyCode="EUR",
                        exchangeAmount=1.0, relationalExchangeAmount=0.86),
                _record("business_central", "currencyExchangeRates", "r2", currencyCode="USD",
                        exchangeAmount=1.0, relationalExchangeAmount=0.79),
            ],
        }  # fmt: skip

    def companies(self) -> list[dict[str, Any]]:
        if self.companies_error:
            raise self.companies_error
        return self.company_list


class FakeDataverse(FakeReader):
    def __init__(self) -> None:
        super().__init__("dataverse")
        self.who_error: Exception | None = None
        self.user_error: Exception | None = None
        self.privileges_error: Exception | None = None
        self.privileges = [
            f"prv{action}{entity}"
            for entity in ("Account", "Contact", "TransactionCurrency", "Product")
            for action in ("Create", "Read", "Write", "Delete", "Append", "AppendTo")
        ] + ["prvReadUser"]
        self.privileges_asked: list[str] = []
        self.user = SystemUser(
            id=USER_ID,
            fullname="# Business Central Integration",
            access_mode=4,
            is_disabled=False,
            application_id=CLIENT_ID,
            roles=["Business Central Dataverse Integration"],
        )
        self.tables = {
            "transactioncurrencies": [
                _record("dataverse", "transactioncurrencies", "t1", isocurrencycode="EUR", exchangerate=0.92),
                _record("dataverse", "transactioncurrencies", "t2", isocurrencycode="USD", exchangerate=1.0),
            ]
        }

    def who_am_i(self) -> WhoAmI:
        if self.who_error:
            raise self.who_error
        return WhoAmI(user_id=USER_ID, business_unit_id="bu", organization_id="org")

    def get_user(self, user_id: str) -> SystemUser:
        if self.user_error:
            raise self.user_error
        return self.user

    def find_application_user(self, client_id: str) -> SystemUser | None:
        return self.user if client_id == CLIENT_ID else None

    def user_privileges(self, user_id: str) -> list[str]:
        self.privileges_asked.append(user_id)
        if self.privileges_error:
            raise self.privileges_error
        return self.privileges


def _mappings(**overrides: dict[str, Any]) -> list[Mapping]:
    rows = [
        Mapping(name="CURRENCY", bc_table="currencies", dataverse_table="transactioncurrencies",
                direction=Direction.TO_DATAVERSE, position=1),
        Mapping(name="SALESPEOPLE", bc_table="salespeople", dataverse_table="systemusers",
                direction=Direction.FROM_DATAVERSE, position=2),
        Mapping(name="CUSTOMER", bc_table="customers", dataverse_table="accounts",
                direction=Direction.BIDIRECTIONAL, dependencies="CURRENCY,SALESPEOPLE", position=3),
    ]  # fmt: skip
    for row in rows:
        for key, value in overrides.get(row.name, {}).items():
            setattr(row, key, value)
    return rows


def _couple(session: Session, *codes: str) -> None:
    ids = {"EUR": EUR_ID, "USD": USD_ID}
    for n, code in enumerate(codes):
        coupling = Coupling(
            mapping="CURRENCY",
            bc_table="currencies",
            bc_id=ids[code],
            dataverse_table="transactioncurrencies",
            dataverse_id=f"t{n}",
            bc_key=code,
        )
        session.add(coupling)
    session.commit()


class Doctor:
    """The fakes and settings of one test; `run()` calls run_doctor and indexes the results."""

    def __init__(self, session: Session | None) -> None:
        self.settings = Settings(dataverse_url=DV, bc_web_url=BC_WEB, azure_client_id=CLIENT_ID)
        self.bc = FakeBusinessCentral()
        self.dataverse = FakeDataverse()
        self.tokens = FakeTokens()
        self.session = session
        self.mappings: list[Mapping] | None = _mappings()

    def run(self) -> dict[str, CheckResult]:
        results = run_doctor(
            settings=self.settings,
            bc=self.bc,
            dataverse=self.dataverse,
            tokens=self.tokens,
            session=self.session,
            mappings=self.mappings,
        )
        assert [r.check for r in results] == [name for name, _ in CHECKS]
        return {r.check: r for r in results}


@pytest.fixture
def doctor(session: Session) -> Doctor:
    _couple(session, "EUR", "USD")
    return Doctor(session)


def _failed(results: dict[str, CheckResult]) -> set[str]:
    return {name for name, result in results.items() if not result.ok}


def test_all_green(doctor: Doctor) -> None:
    results = doctor.run()
    assert _failed(results) == set()
    assert all(r.fix == "" for r in results.values())
    assert "CRONUS International Ltd." in results["bc-api"].detail
    assert "EUR, USD" in results["currencies"].detail


def test_every_check_has_a_title() -> None:
    assert [name for name, _ in CHECKS] == list(CHECK_TITLES)


def test_json_shape_matches_the_contract(doctor: Doctor) -> None:
    doctor.dataverse.user = SystemUser(USER_ID, "Admin", 4, False, CLIENT_ID, ["System Administrator"])
    payload = format_checks_json(doctor.run().values())
    assert json.loads(json.dumps(payload)) == payload
    for item in payload:
        assert set(item) == {"check", "ok", "detail", "fix"}
        assert isinstance(item["ok"], bool)
        assert (item["fix"] == "") is item["ok"]


def test_password_change_required_is_reported_with_its_meaning(doctor: Doctor) -> None:
    refusal = AuthenticationFailed(
        message="AADSTS50055: The password is expired.", status=400, code="invalid_grant", system="auth",
        aadsts="AADSTS50055",
    )  # fmt: skip
    doctor.tokens.refusals = {BUSINESS_CENTRAL_SCOPE: refusal, f"{DV}/.default": refusal}
    results = doctor.run()
    sign_in = results["bc-sign-in"]
    assert not sign_in.ok
    assert "AADSTS50055" in sign_in.detail
    assert "password has expired" in sign_in.detail
    assert "signs in as an app, not as a user" in sign_in.fix
    assert not results["dataverse-sign-in"].ok
    assert results["bc-api"].detail.startswith("Not checked")
    assert results["integration-user-role"].detail.startswith("Not checked")
    assert results["mapping-dependencies"].ok  # independent checks still run


def test_expired_client_secret(doctor: Doctor) -> None:
    doctor.tokens.refusals = {
        BUSINESS_CENTRAL_SCOPE: AuthenticationFailed(message="AADSTS7000222: expired", system="auth")
    }
    results = doctor.run()
    assert "client secret has expired" in results["bc-sign-in"].detail
    assert "AZURE_CLIENT_SECRET" in results["bc-sign-in"].fix
    assert results["dataverse-sign-in"].ok and results["integration-user-role"].ok


def test_admin_integration_user(doctor: Doctor) -> None:
    doctor.dataverse.user = SystemUser(
        USER_ID,
        "Admin",
        4,
        False,
        CLIENT_ID,
        ["System Administrator", "Business Central Dataverse Integration"],
    )
    results = doctor.run()
    assert _failed(results) == {"integration-user-not-admin"}
    result = results["integration-user-not-admin"]
    assert result.detail == (
        f"User Admin has the System Administrator role on server {DV}. "
        "You must choose a user that does not have the System Administrator role."
    )
    assert "remove the System Administrator role" in result.fix
    assert f"etn=systemuser&id={USER_ID}" in result.fix


@pytest.mark.parametrize(
    "role", ["business central dataverse integration", "Business Central CDS Integration"]
)
def test_integration_role_matches_by_name_case_insensitively_and_old_name(doctor: Doctor, role: str) -> None:
    doctor.dataverse.user = SystemUser(USER_ID, "Integration", 4, False, CLIENT_ID, [role])
    assert doctor.run()["integration-user-role"].ok


def test_missing_integration_role(doctor: Doctor) -> None:
    doctor.dataverse.user = SystemUser(USER_ID, "Integration", 4, False, CLIENT_ID, ["Basic User"])
    result = doctor.run()["integration-user-role"]
    assert not result.ok
    assert "has: Basic User" in result.detail
    assert "Business Central Dataverse Integration" in result.fix


def test_disabled_and_interactive_user(doctor: Doctor) -> None:
    doctor.dataverse.user = SystemUser(
        USER_ID, "Integration", 0, True, None, ["Business Central Dataverse Integration"]
    )
    results = doctor.run()
    assert _failed(results) == {"integration-user-enabled", "integration-user-non-interactive"}
    assert "is disabled" in results["integration-user-enabled"].detail
    assert "Read-Write" in results["integration-user-non-interactive"].detail
    assert "Non-interactive" in results["integration-user-non-interactive"].fix


def test_user_found_by_client_id_when_get_user_fails(doctor: Doctor) -> None:
    doctor.dataverse.user_error = NotFound(message="not found", status=404, system="dataverse")
    results = doctor.run()
    assert results["integration-user-role"].ok


def test_admin_mode(doctor: Doctor) -> None:
    doctor.dataverse.who_error = InvalidData(
        message=ADMIN_MODE, status=403, code="0x80072560", system="dataverse"
    )
    results = doctor.run()
    result = results["dataverse-api"]
    assert not result.ok
    assert "Admin Only mode" in result.detail
    assert "Administration mode off" in result.fix
    assert results["integration-user-not-admin"].detail.startswith("Not checked")
    assert results["currencies"].ok  # Business Central side still checked


def test_throttling_is_reported_with_the_wait(doctor: Doctor) -> None:
    doctor.bc.companies_error = Throttled(
        message="Too many requests reached.", status=429, code="Application_TooManyRequests",
        system="business_central", retry_after=7,
    )  # fmt: skip
    results = doctor.run()
    throttling = results["throttling"]
    assert not throttling.ok
    assert "bc-api" in throttling.detail and "7 s" in throttling.detail
    assert "limiting the bot's requests" in throttling.fix
    assert not results["bc-api"].ok


def test_unreachable_dataverse(doctor: Doctor) -> None:
    doctor.dataverse.who_error = ConnectionFailed(
        message="Dataverse could not be reached.", system="dataverse"
    )
    results = doctor.run()
    assert "could not be reached" in results["dataverse-api"].detail
    assert results["throttling"].ok  # Business Central answered


def test_unknown_company(doctor: Doctor) -> None:
    doctor.settings = Settings(dataverse_url=DV, bc_company_id="nope")
    result = doctor.run()["bc-api"]
    assert not result.ok
    assert "CRONUS International Ltd." in result.detail and "BC_COMPANY_ID" in result.fix


def test_missing_exchange_rate(doctor: Doctor) -> None:
    doctor.bc.tables["currencyExchangeRates"].pop()  # USD loses its rate
    result = doctor.run()["currencies"]
    assert not result.ok
    assert "no exchange rate for USD in Business Central" in result.detail
    assert f"{BC_WEB}/?page=5" in result.fix


def test_zero_exchange_rate_in_dataverse(doctor: Doctor) -> None:
    doctor.dataverse.tables["transactioncurrencies"][0] = _record(
        "dataverse", "transactioncurrencies", "t1", isocurrencycode="EUR", exchangerate=None
    )
    result = doctor.run()["currencies"]
    assert not result.ok and "Dataverse currency EUR has no exchange rate" in result.detail


def test_uncoupled_currency(session: Session) -> None:
    _couple(session, "EUR")
    doctor = Doctor(session)
    result = doctor.run()["currencies"]
    assert not result.ok
    assert "USD not coupled" in result.detail
    assert "CURRENCY mapping" in result.fix


def test_nothing_coupled_yet_is_fine_while_the_currency_mapping_is_enabled(session: Session) -> None:
    doctor = Doctor(session)
    result = doctor.run()["currencies"]
    assert result.ok
    assert "first run" in result.detail
    doctor.mappings = _mappings(CURRENCY={"enabled": False})
    assert not doctor.run()["currencies"].ok


def test_currency_unknown_to_business_central(doctor: Doctor) -> None:
    doctor.bc.tables["customers"].append(_record("business_central", "customers", "cu4", currencyCode="CHF"))
    result = doctor.run()["currencies"]
    assert "CHF, which Business Central has no currency for" in result.detail


def test_without_store_couplings_are_not_checked() -> None:
    doctor = Doctor(None)
    results = doctor.run()
    assert results["currencies"].ok and "no store" in results["currencies"].detail
    doctor.mappings = None
    assert not doctor.run()["mapping-dependencies"].ok


def test_mappings_are_read_from_the_store(session: Session) -> None:
    for mapping in _mappings(SALESPEOPLE={"enabled": False}):
        session.add(mapping)
    session.commit()
    doctor = Doctor(session)
    doctor.mappings = None
    result = doctor.run()["mapping-dependencies"]
    assert not result.ok
    assert "CUSTOMER depends on SALESPEOPLE, which is disabled" in result.detail
    assert "enable SALESPEOPLE" in result.fix


def test_unknown_and_paused_dependencies(doctor: Doctor) -> None:
    doctor.mappings = _mappings(CUSTOMER={"dependencies": "CURRENCY,UNIT"}, CURRENCY={"paused": True})
    result = doctor.run()["mapping-dependencies"]
    assert "UNIT, which does not exist" in result.detail
    assert "CURRENCY, which is paused" in result.detail


def test_a_crashing_check_does_not_stop_the_others(doctor: Doctor) -> None:
    doctor.bc.company_list = [{"id": None, "name": object()}]  # odd, but must not break anything
    doctor.bc.errors["customers"] = RuntimeError("boom")
    results = doctor.run()
    assert not results["currencies"].ok
    assert "boom" in results["currencies"].detail
    assert results["integration-user-role"].ok
    assert results["mapping-dependencies"].ok


def test_missing_dataverse_url(session: Session) -> None:
    doctor = Doctor(session)
    doctor.settings = Settings()
    result = doctor.run()["dataverse-sign-in"]
    assert not result.ok and "DATAVERSE_URL" in result.fix


def test_integration_user_privileges_pass_with_the_integration_role(doctor: Doctor) -> None:
    result = doctor.run()["integration-user-privileges"]
    assert result.ok and result.fix == ""
    # CURRENCY writes currencies (3), SALESPEOPLE reads users (1), CUSTOMER writes accounts (6).
    assert "holds the 10 privileges" in result.detail
    assert "transactioncurrencies, systemusers, accounts" in result.detail
    assert doctor.dataverse.privileges_asked == [USER_ID]


def test_missing_privilege_is_named_with_its_fix(doctor: Doctor) -> None:
    doctor.dataverse.privileges = [
        p for p in doctor.dataverse.privileges if p not in ("prvCreateAccount", "prvAppendToAccount")
    ]
    results = doctor.run()
    assert _failed(results) == {"integration-user-privileges"}
    result = results["integration-user-privileges"]
    assert "lacks 2 of the 10 privileges" in result.detail
    assert "prvCreateAccount, prvAppendToAccount (accounts, for CUSTOMER)" in result.detail
    assert "0x80040220" in result.detail
    assert result.fix.startswith(
        "An admin must add prvCreateAccount (Create on Account) and prvAppendToAccount (AppendTo on Account) "
        "to a security role of # Business Central Integration ("
    )
    assert f"{DV}/main.aspx?pagetype=entityrecord&etn=systemuser&id={USER_ID}" in result.fix
    assert "Business Central Dataverse Integration" in result.fix


def test_privileges_follow_the_mappings_directions(doctor: Doctor) -> None:
    doctor.dataverse.privileges = ["prvReadUser", "prvReadAccount", "prvReadTransactionCurrency"]
    doctor.mappings = _mappings(CUSTOMER={"direction": Direction.FROM_DATAVERSE}, CURRENCY={"enabled": False})
    assert doctor.run()["integration-user-privileges"].ok  # reading users and accounts only needs Read
    doctor.mappings = _mappings(CUSTOMER={"enabled": False})
    result = doctor.run()["integration-user-privileges"]
    assert not result.ok
    currencies = (
        "prvCreateTransactionCurrency, prvWriteTransactionCurrency (transactioncurrencies, for CURRENCY)"
    )
    assert currencies in result.detail
    assert "prvReadUser" not in result.detail and "Account" not in result.detail


def test_privileges_without_mappings(doctor: Doctor) -> None:
    doctor.mappings = []
    assert doctor.run()["integration-user-privileges"].ok
    assert doctor.dataverse.privileges_asked == []
    doctor.mappings = None
    doctor.session = None
    doctor.dataverse.privileges = ["prvReadUser"]
    result = doctor.run()["integration-user-privileges"]
    assert not result.ok
    assert "checked against the default mappings" in result.detail
    assert "prvCreateProduct" in result.detail and "prvDeleteContact" in result.detail


def test_privileges_not_checked_or_refused(doctor: Doctor) -> None:
    doctor.dataverse.privileges_error = InvalidData(
        message="Principal user is missing prvReadRole privilege.", status=403, code="0x80040220",
        system="dataverse",
    )  # fmt: skip
    result = doctor.run()["integration-user-privileges"]
    assert not result.ok
    assert result.detail.startswith("Could not read the privileges of # Business Central Integration")
    doctor.dataverse.who_error = ConnectionFailed(
        message="Dataverse could not be reached.", system="dataverse"
    )
    result = doctor.run()["integration-user-privileges"]
    assert result.detail == "Not checked: 'Dataverse API (not in administration mode)' failed."


# ---- against the sandbox (skipped until bot.sandbox provides SandboxServer) -----------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    module = pytest.importorskip("bot.sandbox")
    server_class = getattr(module, "SandboxServer", None)
    if server_class is None:
        pytest.skip("bot.sandbox has no SandboxServer yet")
    server = server_class(port=0, records=30, seed=7).start()
    try:
        yield server
    finally:
        server.stop()


def _sandbox_run(server: Any, session: Session) -> dict[str, CheckResult]:
    import httpx

    from bot.connectors import BusinessCentralClient, DataverseClient, TokenProvider
    from bot.connectors.retry import NO_RETRIES
    from bot.sandbox.constants import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

    settings = Settings(
        bc_api_url=server.bc_api_url,
        bc_company_id=server.company_id,
        dataverse_url=server.dataverse_url,
        auth_token_url=server.token_url,
        azure_client_id=SANDBOX_CLIENT_ID,
    )
    tokens = TokenProvider(server.token_url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
    with httpx.Client(timeout=10.0) as http:
        bc = BusinessCentralClient(
            http, api_url=server.bc_api_url, tokens=tokens, company_id=server.company_id, retry=NO_RETRIES
        )
        dataverse = DataverseClient(
            http, environment_url=server.dataverse_url, tokens=tokens, retry=NO_RETRIES
        )
        results = run_doctor(
            settings=settings,
            bc=bc,
            dataverse=dataverse,
            tokens=tokens,
            session=session,
            mappings=_mappings(),
        )
    tokens.close()
    return {r.check: r for r in results}


def test_sandbox_all_green(sandbox: Any, session: Session) -> None:
    sandbox.clear_faults()
    results = _sandbox_run(sandbox, session)
    assert _failed(results) == set(), {n: r.detail for n, r in results.items() if not r.ok}


@pytest.mark.parametrize(
    ("fault", "params", "check", "in_fix"),
    [
        ("admin-integration-user", {}, "integration-user-not-admin", "remove the System Administrator role"),
        ("password-change-required", {}, "bc-sign-in", "signs in as an app"),
        ("missing-exchange-rate", {}, "currencies", "exchange rate for DKK"),
        ("admin-mode", {}, "dataverse-api", "Administration mode off"),
        ("missing-privilege", {}, "integration-user-privileges", "prvCreateAccount (Create on Account)"),
        # A sync running at the same time has used up most of the budget: two requests a minute left.
        ("throttle", {"limit": 2, "window_seconds": 60}, "throttling", "limiting the bot's requests"),
    ],
)
def test_sandbox_faults_are_reported_with_a_fix(
    sandbox: Any, session: Session, fault: str, params: dict[str, Any], check: str, in_fix: str
) -> None:
    sandbox.clear_faults()
    sandbox.set_fault(fault, **params)
    try:
        results = _sandbox_run(sandbox, session)
    finally:
        sandbox.clear_faults()
    result = results[check]
    assert not result.ok, result
    assert in_fix in result.fix, result


@pytest.mark.parametrize(
    ("params", "lacking"),
    [
        # By default the fault refuses every write to accounts: Create, Write and Delete.
        ({}, "lacks 3 of the 10 privileges: prvCreateAccount, prvWriteAccount, prvDeleteAccount (accounts"),
        ({"privilege": "prvCreateAccount"}, "lacks 1 of the 10 privileges: prvCreateAccount (accounts"),
    ],
)
def test_sandbox_missing_privilege_is_reported_before_a_sync_hits_it(
    sandbox: Any, session: Session, params: dict[str, Any], lacking: str
) -> None:
    sandbox.clear_faults()
    sandbox.set_fault("missing-privilege", **params)
    try:
        results = _sandbox_run(sandbox, session)
    finally:
        sandbox.clear_faults()
    assert _failed(results) == {"integration-user-privileges"}, {n: r.detail for n, r in results.items()}
    result = results["integration-user-privileges"]
    assert lacking in result.detail.replace(" the enabled mappings need", "")
    assert ", for CUSTOMER)" in result.detail
    assert result.fix.startswith("An admin must add prvCreateAccount (Create on Account)")
    assert f"to a security role of # Business Central Integration ({sandbox.dataverse_url}" in result.fix
    assert f"id={sandbox.integration_user_id}" in result.fix
