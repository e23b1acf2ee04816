"""What every API request passes before it reaches the data: latency, sign-in, throttling, outages."""

from __future__ import annotations

import time

from bot.sandbox.api_error import ApiError
from bot.sandbox.constants import BC_RESOURCE, SANDBOX_TENANT
from bot.sandbox.faults import ApiSide, FaultBoard
from bot.sandbox.http_types import Request
from bot.sandbox.tokens import Grant, TokenIssuer


class Gate:
    """Admits a request to one API or raises the refusal that API would give."""

    def __init__(self, tokens: TokenIssuer, faults: FaultBoard, token_url: str, dataverse_url: str) -> None:
        self.tokens = tokens
        self.faults = faults
        self.token_url = token_url
        self.dataverse_url = dataverse_url

    def admit(self, side: ApiSide, request: Request) -> Grant:
        """Sleep for `slow`, check the bearer token, then the `throttle` and `server-error` faults."""
        delay = self.faults.delay(side)
        if delay > 0:
            time.sleep(delay)
        grant = self.tokens.check(request.header("authorization"), side)
        if grant is None:
            raise self._unauthorized(side, request)
        refusal = self.faults.throttled(side) or self.faults.server_error(side)
        if refusal is not None:
            raise refusal
        return grant

    def _unauthorized(self, side: ApiSide, request: Request) -> ApiError:
        authorize = self.token_url.replace("/token", "/authorize")
        if side == "bc":
            challenge = f'Bearer authorization_uri="{authorize}", resource_id="{BC_RESOURCE}"'
            return ApiError(
                401,
                "Authentication_InvalidCredentials",
                "The server has rejected the client credentials.",
                [("WWW-Authenticate", challenge)],
            )
        challenge = f"Bearer authorization_uri={authorize}, resource_id={self.dataverse_url}/"
        reason = "missing" if not request.header("authorization") else "invalid or expired"
        return ApiError(
            401,
            "0x8004a101",
            f"The access token is {reason}. Sign in to tenant {SANDBOX_TENANT} "
            "and send a valid bearer token.",
            [("WWW-Authenticate", challenge)],
        )
