"""What switching a fault on or off does to the data (roles, exchange rates, a deleted record, tokens)."""

from __future__ import annotations

from typing import Any

from bot.sandbox.faults import FaultBoard, UnknownFault
from bot.sandbox.schema import DV_ENTITIES
from bot.sandbox.state import SandboxState
from bot.sandbox.store import Row, Side
from bot.sandbox.tokens import TokenIssuer

_BC_KEYS = {"customers": "displayName", "contacts": "displayName"}


class FaultEffects:
    """Applies and undoes the data side of faults; request-time refusals live in FaultBoard."""

    def __init__(self, state: SandboxState, tokens: TokenIssuer, board: FaultBoard) -> None:
        self.state = state
        self.tokens = tokens
        self.board = board
        self._removed: list[tuple[Side, str, str, Row]] = []

    def switch_on(self, name: str, params: dict[str, Any]) -> None:
        """Turn a fault on and apply its effect on the data."""
        if name == "deleted-coupled-record":
            params = self._validate_deletion(params)
        merged = self.board.set(name, params)
        if name == "admin-integration-user":
            identities = self.state.identities
            self.state.grant_role(identities.integration_user_id, identities.system_administrator_role_id)
        elif name == "password-change-required" and merged["revoke_tokens"]:
            self.tokens.revoke_all()
        elif name == "missing-exchange-rate":
            self._remove_currency(str(merged["currency"]))
        elif name == "deleted-coupled-record":
            self.board.update(name, self._delete_record(merged))

    def switch_all_off(self) -> None:
        """Turn every fault off and undo what can be undone (a deleted record stays deleted)."""
        active = self.board.clear()
        if "admin-integration-user" in active:
            identities = self.state.identities
            self.state.revoke_role(identities.integration_user_id, identities.system_administrator_role_id)
        with self.state.lock:
            for side, table, row_id, row in self._removed:
                code_field = "currencyCode" if side == "bc" else "isocurrencycode"
                clash = side == "dataverse" and any(
                    other.get(code_field) == row.get(code_field) for other in self.state.dv_rows(table)
                )
                if not clash and row_id not in self.state.store.table(side, table):
                    self.state.store.put(side, table, row_id, row)
            self._removed.clear()

    def _remove_currency(self, code: str) -> None:
        with self.state.lock:
            for side, table, field in (
                ("bc", "currencyExchangeRates", "currencyCode"),
                ("dataverse", "transactioncurrencies", "isocurrencycode"),
            ):
                rows = self.state.store.table(side, table)  # type: ignore[arg-type]
                for row_id, row in list(rows.items()):
                    if str(row.get(field, "")).upper() == code.upper():
                        self.state.store.remove(side, table, row_id)  # type: ignore[arg-type]
                        self._removed.append((side, table, row_id, row))  # type: ignore[arg-type]

    def _validate_deletion(self, params: dict[str, Any]) -> dict[str, Any]:
        side = params.get("side", "dataverse")
        if side not in ("dataverse", "bc"):
            raise UnknownFault("deleted-coupled-record: side must be 'dataverse' or 'bc'.")
        return params

    def _delete_record(self, params: dict[str, Any]) -> dict[str, Any]:
        """Delete the named record, or by default a Dataverse account whose name matches a BC customer."""
        side = params["side"]
        table = params.get("table") or ("accounts" if side == "dataverse" else "customers")
        record_id = params.get("id") or self._default_victim(side, table)
        if record_id is None:
            raise UnknownFault(f"deleted-coupled-record: no record to delete in {side} {table}.")
        if side == "dataverse":
            self.state.dv_delete(table, record_id)
        else:
            self.state.bc_delete(table, record_id)
        return {"side": side, "table": table, "id": record_id}

    def _default_victim(self, side: str, table: str) -> str | None:
        if side == "dataverse" and table == "accounts":
            bc_names = {row["displayName"].casefold() for row in self.state.bc_rows("customers")}
            matches = sorted(
                (
                    row
                    for row in self.state.dv_rows("accounts")
                    if str(row.get("name", "")).casefold() in bc_names
                ),
                key=lambda row: str(row["name"]),
            )
            return str(matches[0]["accountid"]) if matches else None
        if side == "bc" and table == "customers":
            dv_names = {str(row.get("name", "")).casefold() for row in self.state.dv_rows("accounts")}
            matches = sorted(
                (row for row in self.state.bc_rows("customers") if row["displayName"].casefold() in dv_names),
                key=lambda row: str(row["number"]),
            )
            return str(matches[0]["id"]) if matches else None
        if side == "dataverse":
            key = DV_ENTITIES[table].key if table in DV_ENTITIES else "id"
            rows = self.state.dv_rows(table)
        else:
            key, rows = "id", self.state.bc_rows(table)
        return str(rows[0][key]) if rows else None
