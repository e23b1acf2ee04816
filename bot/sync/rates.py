"""Currency exchange rates for the CURRENCY mapping: the latest Business Central rate line per currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.connectors.models import BusinessApp
from bot.sync.transforms import exchange_rate

EXCHANGE_RATES_TABLE = "currencyExchangeRates"


class ExchangeRates:
    """Reads Business Central's rate lines once, on first use, and answers the Dataverse `exchangerate`."""

    def __init__(self, bc: BusinessApp) -> None:
        self._bc = bc
        self._rates: dict[str, Decimal | None] | None = None

    def rate(self, currency_code: str) -> Decimal | None:
        """The Dataverse exchange rate of a currency from its line with the latest starting date, or None."""
        if self._rates is None:
            self._rates = self._load()
        return self._rates.get(currency_code.upper())

    def _load(self) -> dict[str, Decimal | None]:
        latest: dict[str, tuple[str, dict[str, Any]]] = {}
        for page in self._bc.iter_changed(EXCHANGE_RATES_TABLE):
            for record in page:
                code = str(record.fields.get("currencyCode") or "").upper()
                starting = str(record.fields.get("startingDate") or "")
                if code and (code not in latest or starting > latest[code][0]):
                    latest[code] = (starting, record.fields)
        return {
            code: exchange_rate(fields.get("exchangeAmount"), fields.get("relationalExchangeAmount"))
            for code, (_, fields) in latest.items()
        }
