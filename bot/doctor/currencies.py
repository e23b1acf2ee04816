"""Check that the currencies customers use are coupled and have an exchange rate in both apps."""

from __future__ import annotations

from typing import Any

from bot.connectors.models import Record
from bot.doctor.context import DoctorRun
from bot.doctor.mappings import load_mappings
from bot.doctor.ports import RecordReader
from bot.doctor.result import BC_API, CURRENCIES, DATAVERSE_API, CheckResult
from bot.phrases import Phrase, Value, joined, say
from bot.sync.hints import PAGE_CURRENCIES, PAGE_TABLE_MAPPINGS
from storage.couplings import of_table_or_mapping

BC_CURRENCIES = "currencies"
BC_RATES = "currencyExchangeRates"
DATAVERSE_CURRENCIES = "transactioncurrencies"


def _rows(store: RecordReader, table: str, select_fields: list[str] | None = None) -> list[Record]:
    return [record for page in store.iter_changed(table, select=select_fields) for record in page]


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def _on_page(run: DoctorRun, page_id: int, fix: Phrase) -> Phrase:
    """The fix, followed by the link to the Business Central page where it is made (when known)."""
    page = run.links.bc_page(page_id)
    return say("doctor.on_page", fix=fix, page=page) if page else fix


def _currency_mapping(run: DoctorRun) -> tuple[str, bool | None]:
    """Name of the mapping that couples currencies, and whether it is enabled (None when unknown)."""
    for mapping in load_mappings(run) or []:
        if mapping.bc_table == BC_CURRENCIES:
            return mapping.name, mapping.enabled and not mapping.paused
    return "CURRENCY", None


def _coupled_codes(run: DoctorRun, ids_to_codes: dict[str, str], mapping: str) -> set[str] | None:
    if run.session is None:
        return None
    codes: set[str] = set()
    for coupling in of_table_or_mapping(run.session, bc_table=BC_CURRENCIES, mapping=mapping):
        code = ids_to_codes.get(coupling.bc_id) or _text(coupling.bc_key)
        if code:
            codes.add(code.upper())
    return codes


def check_currencies(run: DoctorRun) -> CheckResult:
    """Currencies used by customers exist, are coupled, and have an exchange rate (BC, and Dataverse)."""
    blocked = run.blocked(CURRENCIES, BC_API)
    if blocked:
        return blocked
    try:
        customers = _rows(run.bc, "customers", ["currencyCode"])
        used = sorted({_text(r.fields.get("currencyCode")).upper() for r in customers} - {""})
        if not used:
            return CheckResult(CURRENCIES, True, say("doctor.local_currency"))
        currencies = _rows(run.bc, BC_CURRENCIES)
        rates = _rows(run.bc, BC_RATES)
    except Exception as error:  # noqa: BLE001
        return run.failure(CURRENCIES, say("doctor.currencies_unreadable"), error)
    ids_to_codes = {r.id: _text(r.fields.get("code")).upper() for r in currencies}
    known = set(ids_to_codes.values())
    with_rate = {
        _text(r.fields.get("currencyCode")).upper()
        for r in rates
        if _positive(r.fields.get("exchangeAmount")) and _positive(r.fields.get("relationalExchangeAmount"))
    }
    mapping, mapping_enabled = _currency_mapping(run)
    problems: list[Value] = []
    fixes: list[Value] = []

    missing = [c for c in used if c not in known]
    if missing:
        problems.append(say("doctor.no_bc_currency", codes=", ".join(missing)))
        fixes.append(say("doctor.create_currency", codes=", ".join(missing)))
    no_rate = [c for c in used if c in known and c not in with_rate]
    if no_rate:
        problems.append(say("doctor.no_bc_rate", codes=", ".join(no_rate)))
        fixes.append(_on_page(run, PAGE_CURRENCIES, say("doctor.add_rate", codes=", ".join(no_rate))))

    coupled = _coupled_codes(run, ids_to_codes, mapping)
    notes: list[Value] = []
    if coupled is None:
        notes.append(say("doctor.couplings_not_checked"))
    elif not coupled and mapping_enabled is not False:
        notes.append(say("doctor.none_coupled_yet", mapping=mapping))
    else:
        uncoupled = [c for c in used if c in known and c not in coupled]
        if uncoupled:
            problems.append(say("doctor.not_coupled", codes=", ".join(uncoupled)))
            fix = say("doctor.run_currency_mapping", mapping=mapping, codes=", ".join(uncoupled))
            fixes.append(_on_page(run, PAGE_TABLE_MAPPINGS, fix))

    if run.passed(DATAVERSE_API):
        try:
            rows = _rows(run.dataverse, DATAVERSE_CURRENCIES, ["isocurrencycode", "exchangerate"])
        except Exception as error:  # noqa: BLE001
            notes.append(say("doctor.dataverse_currencies_unread", reason=str(error)))
        else:
            zero = sorted(
                code
                for r in rows
                if (code := _text(r.fields.get("isocurrencycode")).upper()) in used
                and not _positive(r.fields.get("exchangerate"))
            )
            if zero:
                problems.append(say("doctor.no_dataverse_rate", codes=", ".join(zero)))
                fixes.append(say("doctor.set_dataverse_rate", codes=", ".join(zero)))

    tail: Value = say("doctor.note", notes=joined(notes)) if notes else ""
    codes = ", ".join(used)
    if problems:
        return CheckResult(
            CURRENCIES,
            False,
            say("doctor.currency_problems", codes=codes, problems=joined(problems), tail=tail),
            say("doctor.currency_fix", fixes=joined(fixes)),
        )
    found = "doctor.currencies_coupled" if coupled else "doctor.currencies_rated"
    return CheckResult(CURRENCIES, True, say(found, codes=codes, tail=tail))
