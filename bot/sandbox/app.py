"""Routes every request to its stand-in: token endpoint, Business Central, Dataverse, web pages, control."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import nullcontext

from bot.sandbox.api_error import ApiError, business_central_error, dataverse_error
from bot.sandbox.bc_api import BusinessCentralApi
from bot.sandbox.constants import DATAVERSE_API_PREFIX
from bot.sandbox.dv_api import DataverseApi
from bot.sandbox.fault_effects import FaultEffects
from bot.sandbox.faults import ApiSide, FaultBoard, UnknownFault
from bot.sandbox.gate import Gate
from bot.sandbox.http_types import Request, Response, json_response
from bot.sandbox.latency import BadLatency, LatencyModel
from bot.sandbox.limits import Charge, ServiceProtection
from bot.sandbox.person_edits import PersonEdits
from bot.sandbox.state import SandboxState
from bot.sandbox.tokens import TokenIssuer
from bot.sandbox.web_pages import business_central_page, dataverse_page


class SandboxApp:
    """The whole sandbox as a function from Request to Response."""

    def __init__(
        self,
        state: SandboxState,
        tokens: TokenIssuer,
        faults: FaultBoard,
        effects: FaultEffects,
        base_url: Callable[[], str],
        latency: LatencyModel,
        protection: ServiceProtection | None,
    ) -> None:
        self.state = state
        self.tokens = tokens
        self.faults = faults
        self.effects = effects
        self.base_url = base_url
        self.latency = latency
        self.protection = protection
        gate = Gate(tokens, faults, token_url=self._token_url(), dataverse_url=self._dataverse_url())
        self.business_central = BusinessCentralApi(state, gate, self._bc_api_url)
        self.dataverse = DataverseApi(state, gate, faults, self._dataverse_url)
        self.person_edits = PersonEdits(state)

    def _token_url(self) -> str:
        return "/token"

    def _dataverse_url(self) -> str:
        return f"{self.base_url()}/dataverse"

    def _bc_api_url(self) -> str:
        from bot.sandbox.constants import BC_PREFIX

        return f"{self.base_url()}{BC_PREFIX}"

    def handle(self, request: Request) -> Response:
        """Count the request, then dispatch it by its first path segment."""
        self.state.count_request(request.path)
        first = request.path.lstrip("/").split("/", 1)[0]
        if first == "token":
            return self._token(request)
        if first == "bc":
            return self._served("bc", request, self.business_central.handle)
        if first == "bc-web":
            return business_central_page(self.state, request)
        if request.path.startswith(DATAVERSE_API_PREFIX):
            return self._served("dataverse", request, self.dataverse.handle)
        if request.path.rstrip("/") == "/dataverse/main.aspx":
            return dataverse_page(self.state, request)
        if first == "_sandbox":
            return self._control(request)
        return json_response(
            404, {"error": {"code": "NotFound", "message": f"No resource at '{request.path}'."}}
        )

    def _served(self, side: ApiSide, request: Request, handler: Callable[[Request], Response]) -> Response:
        """Under the user's protection limits: answer, then take as long as the latency model says."""
        grant = self.tokens.check(request.header("authorization"), side)
        user = grant.client_id if grant is not None and self.protection is not None else None
        started = time.monotonic()
        try:
            limits = self.protection.admit(side, user) if self.protection else nullcontext(Charge())
            with limits as charge, self.latency.pacing(side, request.method):
                response = handler(request)
                cost = self.latency.seconds(side, request.method, response.operations, response.rows)
                if cost > 0:  # the service's own time (model and `slow` fault), whatever this machine's load
                    charge.seconds = cost + self.faults.delay(side)
                remaining = cost - (time.monotonic() - started)
                if remaining > 0:
                    time.sleep(remaining)
                if _is_batch(request) and response.status < 400:
                    response = self._lost_answer(side, response)
        except ApiError as refusal:
            return business_central_error(refusal) if side == "bc" else dataverse_error(refusal)
        return response

    def _lost_answer(self, side: ApiSide, response: Response) -> Response:
        """`lost-batch-answer`: the batch is committed; its answer comes too late, never, or as a 5xx."""
        fate = self.faults.lost_answer(side)
        if fate is None:
            return response
        mode, seconds = fate
        if mode == "drop":
            response.drop_connection = True
        elif mode == "delay":
            time.sleep(seconds)
        else:
            code = "Internal_ServerError" if side == "bc" else "0x80040216"
            raise ApiError(500, code, "An unexpected error occurred.")
        return response

    def _token(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) != 5 or parts[2:] != ["oauth2", "v2.0", "token"]:
            return json_response(
                404, {"error": "not_found", "error_description": "Unknown token endpoint path."}
            )
        return self.tokens.token_endpoint(request, parts[1], self.faults.password_expired())

    def _control(self, request: Request) -> Response:
        """`GET /_sandbox/state`, `POST /_sandbox/faults`, `DELETE /_sandbox/faults`."""
        path = request.path.rstrip("/")
        if path.startswith("/_sandbox/records/"):
            return self.person_edits.handle(request, path[len("/_sandbox/records/") :])
        if path == "/_sandbox/latency":
            return self._latency(request)
        if path == "/_sandbox/state" and request.method == "GET":
            return json_response(200, self.snapshot())
        if path == "/_sandbox/faults" and request.method == "GET":
            return json_response(200, {"faults": self.faults.active()})
        if path == "/_sandbox/faults" and request.method == "DELETE":
            self.effects.switch_all_off()
            return json_response(200, {"faults": []})
        if path == "/_sandbox/faults" and request.method == "POST":
            try:
                payload = request.json_body()
                if not isinstance(payload, dict) or not isinstance(payload.get("fault"), str):
                    raise ValueError('expected {"fault": NAME, ...params}')
                name = payload.pop("fault")
                self.effects.switch_on(name, payload)
            except (ValueError, UnknownFault) as error:
                return json_response(400, {"error": {"code": "BadFault", "message": str(error)}})
            return json_response(200, {"faults": self.faults.active()})
        return json_response(
            404, {"error": {"code": "NotFound", "message": f"No resource at '{request.path}'."}}
        )

    def _latency(self, request: Request) -> Response:
        """`GET /_sandbox/latency`, `PUT /_sandbox/latency` with `{"latency": "none|realistic|MS"}`."""
        if request.method == "PUT":
            try:
                payload = request.json_body()
                if not isinstance(payload, dict) or "latency" not in payload:
                    raise BadLatency('expected {"latency": "none" | "realistic" | milliseconds}')
                self.latency.change_to(payload["latency"])
            except ValueError as error:
                return json_response(400, {"error": {"code": "BadLatency", "message": str(error)}})
        elif request.method != "GET":
            return json_response(405, {"error": {"code": "MethodNotAllowed", "message": "Use GET or PUT."}})
        return json_response(200, {"latency": self.latency.name})

    def snapshot(self) -> dict[str, object]:
        """Record counts per table per side, active faults and request counts."""
        counts = self.state.counts()
        return {
            "business_central": counts["bc"],
            "dataverse": counts["dataverse"],
            "faults": self.faults.active(),
            "requests": self.state.request_counts(),
            "latency": self.latency.name,
            "peak_concurrent_requests": dict(self.protection.peak_in_flight) if self.protection else {},
            "protection": self.protection.report() if self.protection else {},
            "company_id": self.state.identities.company_id,
            "integration_user_id": self.state.identities.integration_user_id,
        }


def _is_batch(request: Request) -> bool:
    return request.method == "POST" and request.path.rstrip("/").endswith("/$batch")


def dumps(payload: object) -> str:
    """JSON text for console output."""
    return json.dumps(payload, indent=2)
