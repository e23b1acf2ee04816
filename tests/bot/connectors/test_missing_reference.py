"""A 404 names what is missing: the record addressed (NotFound) or one it refers to (MissingReference)."""

from __future__ import annotations

import pytest

from bot.connectors.errors import InvalidData, MissingReference, NotFound
from bot.connectors.failures import error_from_answer

ACCOUNT = "11111111-1111-1111-1111-111111111111"
CURRENCY = "22222222-2222-2222-2222-222222222222"
DV = "https://org.example/api/data/v9.2"
BC = "https://bc.example/api/v2.0/companies(c0ffee00-0000-0000-0000-000000000000)"


def _error(status: int, code: str, message: str, method: str, url: str) -> object:
    body = {"error": {"code": code, "message": message}}
    return error_from_answer(status, body, {}, system="x", method=method, url=url)


@pytest.mark.parametrize(
    "message",
    [f"Entity 'account' With Id = {ACCOUNT} Does Not Exist", f"account With Id = {ACCOUNT} Does Not Exist"],
)
def test_dataverse_own_row_missing_is_not_found(message: str) -> None:
    error = _error(404, "0x80040217", message, "PATCH", f"{DV}/accounts({ACCOUNT})")
    assert type(error) is NotFound


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_dataverse_lookup_target_missing_names_the_table_and_id(method: str) -> None:
    url = f"{DV}/accounts({ACCOUNT})" if method == "PATCH" else f"{DV}/accounts"
    error = _error(404, "0x80040217", f"transactioncurrency With Id = {CURRENCY} Does Not Exist", method, url)
    assert isinstance(error, MissingReference) and isinstance(error, InvalidData)
    assert not isinstance(error, NotFound)
    assert (error.table, error.record_id, error.key) == ("transactioncurrency", CURRENCY, None)


def test_business_central_related_table_names_the_code() -> None:
    message = (
        "The field Currency Code of table Customer contains a value (XYZ) that cannot be found in the "
        "related table (Currency).  CorrelationId: 0f1e2d3c-0000-0000-0000-000000000000."
    )
    error = _error(400, "Internal_InvalidTableRelation", message, "PATCH", f"{BC}/customers({ACCOUNT})")
    assert isinstance(error, MissingReference)
    assert (error.table, error.key, error.field) == ("Currency", "XYZ", "Currency Code")


def test_business_central_referenced_id_vs_own_id() -> None:
    other = f"The Currency does not exist. Identification fields and values: Id='{{{CURRENCY.upper()}}}'"
    own = f"The Customer does not exist. Identification fields and values: Id='{{{ACCOUNT.upper()}}}'"
    url = f"{BC}/customers({ACCOUNT})"
    referenced = _error(400, "Internal_RecordNotFound", other, "PATCH", url)
    assert isinstance(referenced, MissingReference)
    assert (referenced.table, referenced.record_id) == ("Currency", CURRENCY)
    assert type(_error(404, "BadRequest_NotFound", own, "PATCH", url)) is NotFound
