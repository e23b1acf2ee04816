"""Scripted stand-ins over httpx.MockTransport: a token endpoint and an API that records requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

TOKEN_URL = "https://login.example.test/tenant-1/oauth2/v2.0/token"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "s3cret-value-never-shown"
BC_API_URL = "https://api.example.test/v2.0/tenant-1/Production/api/v2.0"
DATAVERSE_URL = "https://org.example.test"

Handler = Callable[[httpx.Request], httpx.Response]


def json_response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON answer (or an empty one when body is None)."""
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def odata_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """An OData error answer as both APIs send it."""
    return json_response(status, {"error": {"code": code, "message": message}}, headers)


@dataclass
class TokenEndpoint:
    """A scripted client-credentials token endpoint."""

    expires_in: int = 3600
    refusal: httpx.Response | None = None
    requests: list[dict[str, list[str]]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        self.requests.append(form)
        if self.refusal is not None:
            return self.refusal
        number = len(self.requests)
        return json_response(
            200,
            {"token_type": "Bearer", "expires_in": self.expires_in, "access_token": f"token-{number}"},
        )

    @property
    def scopes(self) -> list[str]:
        """The scope asked for by each token request."""
        return [form["scope"][0] for form in self.requests]


@dataclass
class ScriptedApi:
    """An API stand-in: answers with `handler` and keeps every request it saw."""

    handler: Handler
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.handler(request)

    def client(self) -> httpx.Client:
        """An httpx client whose requests this stand-in answers."""
        return httpx.Client(transport=httpx.MockTransport(self))

    def body(self, index: int = -1) -> Any:
        """The JSON body of a request seen."""
        return json.loads(self.requests[index].content)
