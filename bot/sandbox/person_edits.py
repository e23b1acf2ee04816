"""`/_sandbox/records/{system}/{table}[/{id}]`: create, edit and delete records as a person in the app would.

An edit made with the bot's own credentials is the integration user's and is rightly never synced back; these
edits are made by a normal user (Dataverse `_modifiedby_value` is a salesperson, not the application user).
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.api_error import ApiError, business_central_error, dataverse_error
from bot.sandbox.http_types import Request, Response, empty_response, json_response
from bot.sandbox.state import SandboxState

_SYSTEMS = {"bc": "bc", "business_central": "bc", "dataverse": "dataverse"}


class PersonEdits:
    """Edits through the apps' own validation, recorded as made by a person (Dataverse: `?as=<userid>`)."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def handle(self, request: Request, rest: str) -> Response:
        """POST …/{table} creates, GET/PATCH/DELETE …/{table}/{id} reads, edits, deletes."""
        parts = [part for part in rest.split("/") if part]
        system = _SYSTEMS.get(parts[0]) if parts else None
        if system is None or len(parts) not in (2, 3):
            return json_response(
                404,
                {
                    "error": {
                        "code": "NotFound",
                        "message": "Use /_sandbox/records/{bc|dataverse}/{table}[/{id}], "
                        "e.g. /_sandbox/records/dataverse/accounts.",
                    }
                },
            )
        table, record_id = parts[1], (parts[2] if len(parts) == 3 else None)
        try:
            return self._dispatch(request, system, table, record_id)
        except ApiError as error:
            return business_central_error(error) if system == "bc" else dataverse_error(error)

    def _dispatch(self, request: Request, system: str, table: str, record_id: str | None) -> Response:
        actor = request.query.get("as") or self.state.identities.editor_user_id
        if record_id is None:
            if request.method != "POST":
                raise ApiError(405, "MethodNotAllowed", "POST creates a record; use …/{table}/{id} for one.")
            values = _values(request)
            if system == "bc":
                return json_response(201, self.state.bc_create(table, values))
            return json_response(201, self.state.dataverse.create(table, values, actor))
        if request.method == "GET":
            return json_response(200, self._get(system, table, record_id))
        if request.method == "PATCH":
            values = _values(request)
            if system == "bc":
                return json_response(200, self.state.bc_update(table, record_id, values))
            row, _ = self.state.dataverse.update(table, record_id, values, actor, if_match="*")
            return json_response(200, row)
        if request.method == "DELETE":
            if system == "bc":
                self.state.bc_delete(table, record_id)
            else:
                self.state.dv_delete(table, record_id)
            return empty_response(204)
        raise ApiError(405, "MethodNotAllowed", f"{request.method} is not supported on one record.")

    def _get(self, system: str, table: str, record_id: str) -> dict[str, Any]:
        if system == "bc":
            return self.state.bc.get(table, record_id)
        return self.state.dataverse.get(table, record_id)


def _values(request: Request) -> dict[str, Any]:
    try:
        payload = request.json_body() if request.body else None
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise ApiError(400, "BadRequest", "The body must be a JSON object of field values.")
    return payload
