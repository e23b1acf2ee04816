"""Switchable faults: which are on, with which parameters, and the refusals they cause at request time."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Literal

from bot.sandbox.api_error import ApiError
from bot.sandbox.schema import DV_BY_LOGICAL_NAME, Entity

ApiSide = Literal["bc", "dataverse"]
LostAnswerMode = Literal["delay", "drop", "error"]
_LOST_ANSWER_MODES = ("delay", "drop", "error")

FAULT_DEFAULTS: dict[str, dict[str, Any]] = {
    "missing-privilege": {"entity": "account", "privilege": None},
    "admin-integration-user": {},
    "password-change-required": {"revoke_tokens": True},
    "missing-exchange-rate": {"currency": "DKK"},
    "deleted-coupled-record": {"side": "dataverse", "table": None, "id": None},
    "throttle": {"limit": 5, "window_seconds": 1.0, "retry_after": 1, "side": "both"},
    "server-error": {"count": 3, "status": 500, "side": "both"},
    "slow": {"seconds": 0.5, "side": "both"},
    "admin-mode": {},
    # A `$batch` is committed, then its answer is lost: held past the client's read timeout (`delay`),
    # the connection closed without an answer (`drop`), or a 5xx after the commit (`error`).
    # `request`: the first hit `$batch` (1 = the next one on that side), `count`: how many in a row.
    "lost-batch-answer": {"side": "both", "mode": "delay", "seconds": 35.0, "request": 1, "count": 1},
}
FAULT_NAMES = tuple(FAULT_DEFAULTS)

_ACTIONS = {"GET": "Read", "POST": "Create", "PATCH": "Write", "PUT": "Write", "DELETE": "Delete"}
_WRITE_ACTIONS = ("Create", "Write", "Delete")


class UnknownFault(ValueError):
    """A fault name or parameter the sandbox does not know."""


def parse_fault_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """`throttle:limit=3,retry_after=0` -> ("throttle", {"limit": 3, "retry_after": 0})."""
    name, _, rest = spec.partition(":")
    params: dict[str, Any] = {}
    for pair in filter(None, rest.split(",")):
        key, _, raw = pair.partition("=")
        params[key.strip()] = _parse_value(raw.strip())
    return name.strip(), params


def _parse_value(raw: str) -> Any:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    for convert in (int, float):
        try:
            return convert(raw)
        except ValueError:
            pass
    return raw


def _applies(params: dict[str, Any], side: ApiSide) -> bool:
    return params.get("side", "both") in ("both", side)


class FaultBoard:
    """The active faults and their runtime counters (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, dict[str, Any]] = {}
        self._hits: dict[ApiSide, deque[float]] = {"bc": deque(), "dataverse": deque()}
        self._batches: dict[ApiSide, int] = {"bc": 0, "dataverse": 0}

    def set(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """Turn a fault on (replacing the same fault's earlier parameters); returns the full parameters."""
        if name not in FAULT_DEFAULTS:
            raise UnknownFault(f"Unknown fault '{name}'. Known faults: {', '.join(FAULT_NAMES)}.")
        unknown = set(params) - set(FAULT_DEFAULTS[name])
        if unknown:
            raise UnknownFault(f"Fault '{name}' has no parameter {', '.join(sorted(unknown))}.")
        merged = {**FAULT_DEFAULTS[name], **params}
        if name == "lost-batch-answer" and merged["mode"] not in _LOST_ANSWER_MODES:
            raise UnknownFault(f"lost-batch-answer: mode must be one of {', '.join(_LOST_ANSWER_MODES)}.")
        with self._lock:
            self._active[name] = merged
            if name == "throttle":
                for hits in self._hits.values():
                    hits.clear()
            if name == "lost-batch-answer":
                self._batches = {"bc": 0, "dataverse": 0}
        return merged

    def update(self, name: str, params: dict[str, Any]) -> None:
        """Record parameters a fault resolved when it was applied (e.g. which record it deleted)."""
        with self._lock:
            if name in self._active:
                self._active[name].update(params)

    def clear(self) -> dict[str, dict[str, Any]]:
        """Turn every fault off; returns what was on."""
        with self._lock:
            active, self._active = self._active, {}
            return active

    def active(self) -> list[dict[str, Any]]:
        """The active faults as `{"fault": name, **params}`."""
        with self._lock:
            return [{"fault": name, **params} for name, params in self._active.items()]

    def params(self, name: str) -> dict[str, Any] | None:
        """The parameters of an active fault, or None when it is off."""
        with self._lock:
            params = self._active.get(name)
            return dict(params) if params is not None else None

    def delay(self, side: ApiSide) -> float:
        """Seconds the `slow` fault adds to a request on this side."""
        params = self.params("slow")
        return float(params["seconds"]) if params and _applies(params, side) else 0.0

    def throttled(self, side: ApiSide) -> ApiError | None:
        """The 429 to answer when this side's request count in the window is over the limit."""
        params = self.params("throttle")
        if params is None or not _applies(params, side):
            return None
        now = time.monotonic()
        with self._lock:
            hits = self._hits[side]
            while hits and hits[0] <= now - float(params["window_seconds"]):
                hits.popleft()
            if len(hits) < int(params["limit"]):
                hits.append(now)
                return None
            attempted = len(hits) + 1
        retry = str(params["retry_after"])
        headers = [("Retry-After", retry)]
        if side == "dataverse":
            headers += [("x-ms-ratelimit-burst-remaining-xrm-requests", "0")]
            return ApiError(
                429,
                "0x80072322",
                "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
                headers,
            )
        return ApiError(
            429,
            "Application_TooManyRequests",
            f"Too many requests reached.  Actual ({attempted}). Maximum ({params['limit']}).",
            headers,
        )

    def server_error(self, side: ApiSide) -> ApiError | None:
        """A 5xx while the `server-error` fault has requests left to spoil (it switches itself off after)."""
        with self._lock:
            params = self._active.get("server-error")
            if params is None or not _applies(params, side):
                return None
            params["count"] = int(params["count"]) - 1
            if params["count"] <= 0:
                del self._active["server-error"]
            status = int(params["status"])
        if side == "dataverse":
            if status == 503:
                return ApiError(503, "0x80040216", "The service is temporarily unavailable. Try again later.")
            return ApiError(status, "0x80040216", "An unexpected error occurred.")
        if status == 503:
            return ApiError(503, "Internal_ServiceUnavailable", "The service is temporarily unavailable.")
        return ApiError(status, "Internal_ServerError", "An unexpected error has occurred. Try again later.")

    def admin_mode(self) -> ApiError | None:
        """Dataverse's refusal while the environment is in administration mode."""
        if self.params("admin-mode") is None:
            return None
        return ApiError(
            403,
            "0x80072560",
            "User does not have required privileges (or role membership) to "
            "access the org when it is in Admin "
            "Only mode.",
        )

    def withheld_privileges(self) -> frozenset[str]:
        """Privileges (lower case) `missing-privilege` takes: `privilege`, else writes to `entity`."""
        params = self.params("missing-privilege")
        if params is None:
            return frozenset()
        if params.get("privilege"):
            return frozenset({str(params["privilege"]).lower()})
        logical_name = str(params["entity"]).lower()
        entity = DV_BY_LOGICAL_NAME.get(logical_name)
        names = (
            entity.privilege(action) if entity else f"prv{action}{logical_name}" for action in _WRITE_ACTIONS
        )
        return frozenset(name.lower() for name in names)

    def missing_privilege(self, method: str, entity: Entity) -> str | None:
        """The privilege (e.g. prvCreateAccount) the integration user lacks for this call, or None."""
        action = _ACTIONS.get(method.upper())
        if action is None:
            return None
        needed = entity.privilege(action)
        return needed if needed.lower() in self.withheld_privileges() else None

    def lost_answer(self, side: ApiSide) -> tuple[LostAnswerMode, float] | None:
        """Count a committed `$batch` on this side; (mode, seconds) when `lost-batch-answer` hits it."""
        with self._lock:
            params = self._active.get("lost-batch-answer")
            if params is None or not _applies(params, side):
                return None
            self._batches[side] += 1
            first = int(params["request"])
            if not first <= self._batches[side] < first + int(params["count"]):
                return None
            return params["mode"], float(params["seconds"])

    def password_expired(self) -> bool:
        """True while the token endpoint answers AADSTS50055."""
        return self.params("password-change-required") is not None
