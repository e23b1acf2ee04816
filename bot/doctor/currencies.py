"""Check that the currencies customers use are coupled and have an exchange rate in both apps."""

from __future__ import annotations

from typing import Any

from bot.connectors.models import Record
from bot.doctor.context import DoctorRun
from bot.doctor.mappings import load_mappings
from bot.doctor.ports import RecordReader
from bot.doctor.result import BC_API, CURRENCIES, DATAVERSE_API, CheckResult
from bot.phrases import say
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


def _on_page(run: DoctorRun, page_id: int, fix: str) -> str:
    """The fix, followed by the link to the Business Central page where it is made (when known)."""
    page = run.links.bc_page(page_id)
    return fix + (f" ({page})" if page else "")


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
    problems: list[str] = []
    fixes: list[str] = []

    missing = [c for c in used if c not in known]
    if missing:
        problems.append(f"customers use {', '.join(missing)}, which Business Central has no currency for")
        fixes.append(f"create {', '.join(missing)} on the Currencies page")
    no_rate = [c for c in used if c in known and c not in with_rate]
    if no_rate:
        problems.append(f"no exchange rate for {', '.join(no_rate)} in Business Central")
        fixes.append(
            _on_page(
                run, PAGE_CURRENCIES, f"add an exchange rate for {', '.join(no_rate)} on the Currencies page"
            )
        )

    coupled = _coupled_codes(run, ids_to_codes, mapping)
    notes: list[str] = []
    if coupled is None:
        notes.append("couplings not checked (no store)")
    elif not coupled and mapping_enabled is not False:
        notes.append(f"no currency is coupled yet; the {mapping} mapping couples them on its first run")
    else:
        uncoupled = [c for c in used if c in known and c not in coupled]
        if uncoupled:
            problems.append(f"{', '.join(uncoupled)} not coupled to a Dataverse currency")
            fix = f"run (and enable) the {mapping} mapping or couple {', '.join(uncoupled)} by hand"
            fixes.append(_on_page(run, PAGE_TABLE_MAPPINGS, fix))

    if run.passed(DATAVERSE_API):
        try:
            rows = _rows(run.dataverse, DATAVERSE_CURRENCIES, ["isocurrencycode", "exchangerate"])
        except Exception as error:  # noqa: BLE001
            notes.append(f"Dataverse currencies not read ({error})")
        else:
            zero = sorted(
                code
                for r in rows
                if (code := _text(r.fields.get("isocurrencycode")).upper()) in used
                and not _positive(r.fields.get("exchangerate"))
            )
            if zero:
                problems.append(f"Dataverse currency {', '.join(zero)} has no exchange rate")
                fixes.append(
                    f"set the exchange rate of {', '.join(zero)} in Dataverse (Settings > Currencies)"
                )

    tail = f" Note: {'; '.join(notes)}." if notes else ""
    if problems:
        return CheckResult(
            CURRENCIES,
            False,
            f"Customers use {', '.join(used)}: " + "; ".join(problems) + "." + tail,
            "An admin must " + "; ".join(fixes) + ", then Re-sync the customers that failed.",
        )
    coupled_too = " and is coupled" if coupled else ""
    return CheckResult(
        CURRENCIES, True, f"Customers use {', '.join(used)}: each has an exchange rate{coupled_too}.{tail}"
    )
