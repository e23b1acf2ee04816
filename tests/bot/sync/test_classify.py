"""The classifier: categories, facts, BC's wording, stable cause keys, and that it never raises."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.connectors.errors import (
    AuthenticationFailed,
    ConcurrencyConflict,
    ConnectionFailed,
    ConnectorError,
    InvalidData,
    NotFound,
    PermissionDenied,
    ServerError,
    Throttled,
    Timeout,
)
from bot.connectors.failures import error_from_answer
from bot.sync.classify import Classification, ClassifyContext, classify
from bot.sync.conditions import (
    AdminIntegrationUser,
    CouplingRefused,
    DeletedRecord,
    DependencyNotCoupled,
    EngineCondition,
    MissingExchangeRate,
    UpdateConflict,
)
from storage.models import Category

DV = "https://org.crm4.dynamics.com"
BC_WEB = "https://businesscentral.dynamics.com/tenant/production"
USER_ID = "6f1c2a3b-0000-4000-8000-00000000abcd"
CONTEXT = ClassifyContext(
    mapping="CUSTOMER",
    direction="to_dataverse",
    source_table="customers",
    destination_table="accounts",
    source_key="10000",
    source_name="Adatum Corporation",
    dataverse_url=DV,
    bc_web_url=BC_WEB,
)
PRIVILEGE_TEXT = (
    f"Principal user (Id={USER_ID}, type=8, roleCount=1, privilegeCount=420, accessMode='4', "
    "MetadataCachePrivilegesCount=4542, BusinessUnitId=0c2d...), is missing prvCreateAccount privilege "
    "(Id=d26fe964-230b-42dd-ad93-5cc879de411e) on OTC=1 for entity 'account'. context.Caller=..."
    " Consider adding missed privilege to one of the principal (user/team) roles."
)
ADMIN_MODE_TEXT = (
    "User does not have required privileges (or role membership) to access the org "
    "when it is in Admin Only mode."
)


def _classify(failure: BaseException | EngineCondition) -> Classification:
    return classify(failure, context=CONTEXT)


# ---- permissions -----------------------------------------------------------------------------------


def test_missing_privilege_from_dataverse_answer() -> None:
    error = error_from_answer(
        403,
        {"error": {"code": "0x80040220", "message": PRIVILEGE_TEXT}},
        {},
        system="dataverse",
        method="POST",
        url=f"{DV}/api/data/v9.2/accounts",
    )
    result = _classify(error)
    assert result.category is Category.PERMISSIONS
    assert result.code == "0x80040220"
    assert result.facts["privilege"] == "prvCreateAccount"
    assert result.facts["entity"] == "account"
    assert result.cause_key == "permissions:prvCreateAccount:account"
    assert not result.job_level
    assert "prvCreateAccount (Create on Account)" in result.hint
    assert f"{DV}/main.aspx?pagetype=entityrecord&etn=systemuser&id={USER_ID}" in result.hint
    assert "Re-sync" in result.hint


def test_missing_privilege_found_in_text_only() -> None:
    result = _classify(InvalidData(message=PRIVILEGE_TEXT, status=400, system="dataverse"))
    assert result.category is Category.PERMISSIONS
    assert (result.facts["privilege"], result.facts["entity"]) == ("prvCreateAccount", "account")


def test_same_privilege_on_different_records_folds_into_one_cause() -> None:
    other = ClassifyContext(
        mapping="CUSTOMER", direction="to_dataverse", source_table="customers", destination_table="accounts",
        source_key="20000",
    )  # fmt: skip
    error = PermissionDenied(message=PRIVILEGE_TEXT, status=403, code="0x80040220", system="dataverse")
    assert classify(error, context=CONTEXT).cause_key == classify(error, context=other).cause_key


def test_business_central_permission_refusal() -> None:
    error = PermissionDenied(
        message="You do not have the following permissions on TableData Customer: Insert",
        status=403,
        code="Authorization_InsufficientPermissions",
        system="business_central",
    )
    result = _classify(error)
    assert result.category is Category.PERMISSIONS
    assert "Microsoft Entra Applications" in result.hint


# ---- credentials -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        ("AADSTS50055", "expired"),
        ("AADSTS50126", "refused"),
        ("AADSTS50053", "locked"),
        ("AADSTS50057", "disabled"),
        ("AADSTS50034", "does not exist"),
        ("AADSTS50076", "multi-factor"),
        ("AADSTS50079", "multi-factor"),
        ("AADSTS65001", "consent"),
        ("AADSTS700016", "no app registration"),
        ("AADSTS7000215", "client secret is wrong"),
        ("AADSTS7000222", "client secret has expired"),
        ("AADSTS90072", "not available in this tenant"),
        ("AADSTS90002", "tenant was not found"),
    ],
)
def test_sign_in_refusal_names_the_aadsts_meaning(code: str, meaning: str) -> None:
    error = AuthenticationFailed(
        message=f"{code}: Something went wrong. Trace ID: 1 Correlation ID: 2",
        status=400,
        code="invalid_grant",
        system="auth",
        aadsts=code,
    )
    result = _classify(error)
    assert result.category is Category.CREDENTIALS
    assert result.code == code
    assert result.facts["aadsts"] == code
    assert meaning in result.facts["meaning"]
    assert meaning in result.hint
    assert result.job_level
    assert result.cause_key == f"credentials:auth:{code}"


def test_aadsts_from_the_body_when_the_error_has_none() -> None:
    error = AuthenticationFailed(
        message="The sign-in service refused the token request (invalid_grant).",
        status=400,
        code="invalid_grant",
        system="auth",
        body={"error": "invalid_grant", "error_codes": [50055], "trace_id": "t-1"},
    )
    result = _classify(error)
    assert result.facts["aadsts"] == "AADSTS50055"
    assert "trace_id: t-1" in result.detail


def test_api_401_without_aadsts_is_credentials() -> None:
    result = _classify(AuthenticationFailed(message="Unauthorized", status=401, system="business_central"))
    assert result.category is Category.CREDENTIALS
    assert result.job_level
    assert "Microsoft Entra Applications" in result.hint


# ---- admin integration user, admin mode -------------------------------------------------------------


def test_admin_integration_user_uses_business_centrals_sentence() -> None:
    condition = AdminIntegrationUser(
        user_name="# Business Central", user_id=USER_ID, roles=("System Administrator", "Basic User")
    )
    result = _classify(condition)
    assert result.category is Category.ADMIN_INTEGRATION_USER
    assert result.message == (
        f"User # Business Central has the System Administrator role on server {DV}. "
        "You must choose a user that does not have the System Administrator role."
    )
    assert result.job_level
    assert result.facts["user_id"] == USER_ID
    assert f"etn=systemuser&id={USER_ID}" in result.hint
    assert result.cause_key == f"admin-integration-user:{USER_ID}"


def test_admin_mode_is_its_own_job_level_category() -> None:
    error = error_from_answer(
        403,
        {"error": {"code": "0x80040225", "message": ADMIN_MODE_TEXT}},
        {},
        system="dataverse",
        method="GET",
        url=f"{DV}/api/data/v9.2/accounts",
    )
    result = _classify(error)
    assert result.category is Category.ADMIN_MODE
    assert result.job_level
    assert "Power Platform admin centre" in result.hint


# ---- exchange rates, dependencies, deletions, conflicts ---------------------------------------------


def test_missing_exchange_rate_condition() -> None:
    result = _classify(MissingExchangeRate(currency_code="EUR"))
    assert result.category is Category.EXCHANGE_RATE
    assert result.message == (
        "Cannot create or update the currency EUR in Dataverse, "
        "because there is no exchange rate defined for it."
    )
    assert result.facts["currency_code"] == "EUR"
    assert f"{BC_WEB}/?page=5" in result.hint
    assert result.cause_key == "exchange-rate:EUR"


def test_missing_exchange_rate_from_business_centrals_text() -> None:
    error = InvalidData(
        message="Cannot create or update the currency USD in Dataverse, because there is no exchange rate "
        "defined for it.",
        status=400,
        code="Application_DialogException",
        system="business_central",
    )
    result = _classify(error)
    assert result.category is Category.EXCHANGE_RATE
    assert result.facts["currency_code"] == "USD"


def test_missing_exchange_rate_from_dataverse_refusal() -> None:
    error = InvalidData(
        message="The exchangerate field is required for currency GBP.",
        status=400,
        code="0x80040203",
        system="dataverse",
    )
    result = _classify(error)
    assert result.category is Category.EXCHANGE_RATE
    assert result.facts["currency_code"] == "GBP"


def test_dependency_not_coupled_uses_business_centrals_sentence() -> None:
    condition = DependencyNotCoupled(
        dependency_mapping="CURRENCY",
        dependency_table="currencies",
        dependency_key="EUR",
        field="currencyCode",
    )
    result = _classify(condition)
    assert result.category is Category.DEPENDENCY_NOT_COUPLED
    assert result.message == "Currency Code EUR must be coupled to a record in Dataverse."
    assert result.cause_key == "dependency-not-coupled:CURRENCY:EUR"
    assert "CURRENCY" in result.hint
    assert result.facts["dependency_key"] == "EUR"


def test_dependency_text_from_an_api() -> None:
    result = _classify(InvalidData(message="Salesperson Code JO must be coupled to a record in Dataverse."))
    assert result.category is Category.DEPENDENCY_NOT_COUPLED
    assert result.facts["dependency_key"] == "JO"


def test_deleted_record_names_both_sides() -> None:
    condition = DeletedRecord(
        deleted_side="dataverse", table="accounts", record_id="a-1", surviving_table="customers",
        surviving_key="10000",
    )  # fmt: skip
    result = _classify(condition)
    assert result.category is Category.DELETED_RECORD
    assert (
        result.message == "The Customer record cannot be updated because it is coupled to a deleted record."
    )
    assert result.hint.startswith(
        "Someone deleted the Dataverse account but not the Business Central customer 10000. "
        "Restore the record, delete the surviving one, or remove the coupling"
    )
    assert result.facts["deleted_side"] == "dataverse"
    assert result.facts["surviving_side"] == "business_central"
    assert f"{BC_WEB}/?page=5333" in result.hint


def test_not_found_on_the_destination_is_a_deleted_record() -> None:
    result = _classify(
        NotFound(message="Entity 'account' With Id = x Does Not Exist", status=404, system="dataverse")
    )
    assert result.category is Category.DELETED_RECORD
    assert result.facts["deleted_side"] == "dataverse"
    assert "coupled to a deleted record" in result.message


def test_update_conflict_uses_business_centrals_sentence() -> None:
    result = _classify(
        UpdateConflict(source_table="customers", destination_table="accounts", fields=("displayName ↔ name",))
    )
    assert result.category is Category.UPDATE_CONFLICT
    assert result.message == (
        "Cannot update a record in the Account table. The mapping between displayName field on the "
        "Customer table and the name field on the Account table is bi-directional, and one or both "
        "values have changed since the last synchronization."
    )
    assert result.cause_key == "update-conflict:CUSTOMER:10000"


def test_stale_etag_is_an_update_conflict() -> None:
    error = ConcurrencyConflict(message="Another user has already changed the record.", status=412)
    result = _classify(error)
    assert result.category is Category.UPDATE_CONFLICT
    assert result.facts["stale_etag"] is True


def test_coupling_refused_is_validation() -> None:
    result = _classify(
        CouplingRefused(reason="several-matches", detail="3 accounts match Adatum Corporation.")
    )
    assert result.category is Category.VALIDATION
    assert result.code == "several-matches"
    assert "by hand" in result.hint


# ---- throttling, connection, validation, other ------------------------------------------------------


@pytest.mark.parametrize("code", ["0x80072322", "0x80072321", "0x80072326"])
def test_service_protection_codes_are_throttling(code: str) -> None:
    error = error_from_answer(
        429,
        {"error": {"code": code, "message": "Number of requests exceeded the limit."}},
        {"Retry-After": "42"},
        system="dataverse",
        method="GET",
        url=f"{DV}/api/data/v9.2/accounts",
    )
    result = _classify(error)
    assert result.category is Category.THROTTLED
    assert result.facts["retry_after"] == 42.0
    assert result.job_level
    assert "42 s" in result.hint


def test_throttle_code_without_429() -> None:
    result = _classify(
        ServerError(message="Combined execution time exceeded.", status=503, code="0x80072321")
    )
    assert result.category is Category.THROTTLED


@pytest.mark.parametrize(
    ("error", "job_level"),
    [
        (ConnectionFailed(message="Dataverse could not be reached.", system="dataverse"), True),
        (Timeout(message="Business Central did not answer in time.", system="business_central"), False),
        (ServerError(message="Service Unavailable", status=503, system="business_central"), True),
        (ServerError(message="Internal Server Error", status=500, system="dataverse"), False),
    ],
)
def test_connection_failures(error: ConnectorError, job_level: bool) -> None:
    result = _classify(error)
    assert result.category is Category.CONNECTION
    assert result.job_level is job_level


@pytest.mark.parametrize(
    "code", ["Application_FieldValidationException", "Internal_EntityWithSameKeyExists", "BadRequest"]
)
def test_business_central_refusals_of_data_are_validation(code: str) -> None:
    error = InvalidData(
        message="Phone No. must not contain letters.", status=400, code=code, system="business_central"
    )
    result = _classify(error)
    assert result.category is Category.VALIDATION
    assert result.code == code
    assert result.message == "Phone No. must not contain letters."
    assert "edited the record" in result.hint


def test_validation_cause_ignores_ids_and_numbers() -> None:
    first = _classify(
        InvalidData(message="Record 6f1c2a3b-0000-4000-8000-000000000001 has value 12.", code="X")
    )
    second = _classify(
        InvalidData(message="Record 6f1c2a3b-0000-4000-8000-000000000002 has value 99.", code="X")
    )
    assert first.cause_key == second.cause_key


def test_unknown_exception_is_other_with_its_text() -> None:
    result = _classify(KeyError("currencyCode"))
    assert result.category is Category.OTHER
    assert "currencyCode" in result.message
    assert result.hint


def test_detail_carries_status_code_and_dataverse_annotations() -> None:
    body = {
        "error": {
            "code": "0x80040220",
            "message": PRIVILEGE_TEXT,
            "@Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionMessageName": "PrivilegeDenied",
            "@Microsoft.PowerApps.CDS.TraceText": "trace",
        }
    }
    error = error_from_answer(
        403, body, {}, system="dataverse", method="POST", url=f"{DV}/api/data/v9.2/accounts"
    )
    result = _classify(error)
    assert "HTTP 403" in result.detail
    assert "code 0x80040220" in result.detail
    assert "ApiExceptionMessageName: PrivilegeDenied" in result.detail
    assert f"POST {DV}/api/data/v9.2/accounts" in result.detail


def test_long_messages_are_cut_to_250_characters() -> None:
    result = _classify(InvalidData(message="x" * 5000))
    assert len(result.message) <= 250
    assert len(result.detail) >= 5000


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


def test_exception_that_cannot_be_printed() -> None:
    result = _classify(_Unprintable())
    assert result.category is Category.OTHER
    assert result.message


# ---- property: never raises ------------------------------------------------------------------------

_ERROR_CLASSES = [
    ConnectorError,
    AuthenticationFailed,
    PermissionDenied,
    NotFound,
    ConcurrencyConflict,
    Throttled,
    ServerError,
    Timeout,
    ConnectionFailed,
    InvalidData,
]
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_texts = st.one_of(
    st.text(max_size=600),
    st.sampled_from(
        [PRIVILEGE_TEXT, ADMIN_MODE_TEXT, "AADSTS50055: expired", "there is no exchange rate defined"]
    ),
    st.builds(
        lambda a, b: a + b, st.text(max_size=300), st.sampled_from(["AADSTS", " prv", "exchangerate", "↔"])
    ),
)
_codes = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(["0x80040220", "0x80072322", "Internal_CompanyNotFound", ""]),
)
_bodies = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=12), _json, max_size=5),
    st.builds(
        lambda c, m, x: {"error": {"code": c, "message": m, **x}},
        _json,
        _json,
        st.dictionaries(st.text(max_size=12), _json, max_size=3),
    ),  # fmt: skip
    st.builds(lambda e, d, c: {"error": e, "error_description": d, "error_codes": c}, _json, _json, _json),
)


@st.composite
def _connector_errors(draw: st.DrawFn) -> ConnectorError:
    cls = draw(st.sampled_from(_ERROR_CLASSES))
    kwargs: dict[str, Any] = {
        "message": draw(_texts),
        "status": draw(st.one_of(st.none(), st.integers(min_value=-1, max_value=999))),
        "code": draw(_codes),
        "system": draw(st.sampled_from([None, "business_central", "dataverse", "auth", "x"])),
        "method": draw(st.sampled_from([None, "GET", "POST"])),
        "url": draw(st.one_of(st.none(), st.text(max_size=40))),
        "body": draw(_bodies),
    }
    if cls is AuthenticationFailed:
        kwargs["aadsts"] = draw(
            st.one_of(st.none(), st.text(max_size=15), st.sampled_from(["AADSTS50126", "65001"]))
        )
    if cls is PermissionDenied:
        kwargs["privilege"] = draw(st.one_of(st.none(), st.text(max_size=20)))
        kwargs["entity"] = draw(st.one_of(st.none(), st.text(max_size=20)))
    if cls is Throttled:
        kwargs["retry_after"] = draw(st.one_of(st.none(), st.floats(), st.integers()))
    return cls(**kwargs)


_exceptions = st.one_of(
    st.builds(ValueError, st.text(max_size=100)),
    st.builds(RuntimeError, _json),
    st.builds(KeyError, st.text(max_size=20)),
    st.builds(lambda: _Unprintable()),
)
_conditions = st.one_of(
    st.builds(
        DeletedRecord, st.text(max_size=20), st.text(max_size=20), st.text(max_size=20), st.text(max_size=20)
    ),
    st.builds(
        DependencyNotCoupled,
        st.text(max_size=10),
        st.text(max_size=10),
        st.text(max_size=10),
        st.text(max_size=20),
    ),  # fmt: skip
    st.builds(
        UpdateConflict, st.text(max_size=10), st.text(max_size=10), st.lists(st.text(max_size=20)).map(tuple)
    ),
    st.builds(MissingExchangeRate, st.text(max_size=300)),
    st.builds(AdminIntegrationUser, st.text(max_size=300), st.text(max_size=40)),
    st.builds(CouplingRefused, st.text(max_size=20), st.text(max_size=400)),
    st.just(EngineCondition()),
)
_contexts = st.builds(
    ClassifyContext,
    mapping=st.text(max_size=20),
    direction=st.sampled_from(["to_dataverse", "from_dataverse", "bidirectional", ""]),
    source_table=st.text(max_size=20),
    destination_table=st.text(max_size=20),
    source_key=st.one_of(st.none(), st.text(max_size=20)),
    dataverse_url=st.one_of(st.none(), st.just(DV)),
    bc_web_url=st.one_of(st.none(), st.just(BC_WEB)),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(failure=st.one_of(_connector_errors(), _exceptions, _conditions), context=_contexts)
def test_classify_never_raises(failure: BaseException | EngineCondition, context: ClassifyContext) -> None:
    result = classify(failure, context=context)
    assert isinstance(result.category, Category)
    assert result.category in set(Category)
    assert isinstance(result.message, str) and len(result.message) <= 250
    assert result.message.strip()
    assert result.hint.strip()
    assert result.cause_key.strip()
    assert isinstance(result.facts, dict)
    assert result.code is None or len(result.code) <= 100


@pytest.mark.parametrize(
    "text",
    [
        "Exchange rate is required. Specify a value greater than zero for exchangerate.",
        "The exchange rate 0 is not valid. The exchange rate must be greater than zero.",
    ],
)
def test_dataverse_exchange_rate_refusals_without_a_code(text: str) -> None:
    result = _classify(InvalidData(message=text, status=400, code="0x80040203", system="dataverse"))
    assert result.category is Category.EXCHANGE_RATE
    assert "currency_code" not in result.facts
    assert "exchange rate" in result.hint


def test_business_central_throttling() -> None:
    error = Throttled(
        message="Too many requests reached.  Actual (6). Maximum (5).",
        status=429,
        code="Application_TooManyRequests",
        system="business_central",
        retry_after=1,
    )
    result = _classify(error)
    assert result.category is Category.THROTTLED
    assert result.cause_key == "throttled:business_central"


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (401, Category.CREDENTIALS),
        (403, Category.PERMISSIONS),
        (429, Category.THROTTLED),
        (502, Category.CONNECTION),
        (400, Category.VALIDATION),
    ],
)
def test_plain_connector_errors_fall_back_on_the_status(status: int, category: Category) -> None:
    assert (
        _classify(ConnectorError(message="refused", status=status, system="dataverse")).category is category
    )


def test_an_unknown_table_is_a_setup_problem_not_a_deleted_record() -> None:
    from bot.connectors.errors import NotFound as Missing

    error = Missing(
        message="Resource not found for the segment 'acounts'.",
        status=404,
        code="0x8006088a",
        system="dataverse",
    )
    result = _classify(error)
    assert result.category is Category.OTHER and result.job_level
