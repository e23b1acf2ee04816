"""The Microsoft Entra token endpoint (client credentials) and the bearer-token check both APIs make."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, unquote

from bot.sandbox.api_error import entra_error
from bot.sandbox.constants import BC_RESOURCE, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT
from bot.sandbox.http_types import Request, Response, json_response

Audience = Literal["bc", "dataverse"]


@dataclass(frozen=True)
class Grant:
    """An access token the endpoint issued."""

    client_id: str
    audience: Audience
    resource: str
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class TokenIssuer:
    """Issues JWT-shaped bearer tokens to the one registered client and remembers them until expiry."""

    def __init__(self, lifetime_seconds: int) -> None:
        self.lifetime_seconds = lifetime_seconds
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def token_endpoint(self, request: Request, tenant: str, password_expired: bool) -> Response:
        """`POST /token/{tenant}/oauth2/v2.0/token`: answer as Entra does, errors included."""
        if request.method != "POST":
            return entra_error(
                405,
                "invalid_request",
                900561,
                "The endpoint only accepts POST requests. Received a GET request.",
            )
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, client_secret = _client_credentials(request, form)
        if tenant.lower() != SANDBOX_TENANT:
            return entra_error(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the "
                "correct tenant ID and are signing "
                "into the correct cloud. Check with your subscription administrator, "
                "this may happen if there are "
                "no active subscriptions for the tenant.",
            )
        if form.get("grant_type") != "client_credentials":
            return entra_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{form.get('grant_type', '')}'.",
            )
        if not client_id:
            return entra_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        if client_id.lower() != SANDBOX_CLIENT_ID:
            return entra_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the "
                f"directory '{tenant}'. This can "
                "happen if the application has not been installed by the "
                "administrator of the tenant or consented "
                "to by any user in the tenant. You may have sent your authentication "
                "request to the wrong tenant.",
            )
        if client_secret != SANDBOX_CLIENT_SECRET:
            return entra_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the "
                "request is the client secret "
                f"value, not the client secret ID, for a secret added to app '{client_id}'.",
            )
        scope = form.get("scope", "").split()
        if not scope:
            return entra_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            )
        if not scope[0].endswith("/.default"):
            return entra_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope[0]} is not valid. Client "
                "credential flows must have a scope "
                "value with /.default suffixed to the resource identifier (application ID URI).",
            )
        if password_expired:
            return entra_error(400, "invalid_grant", 50055, "The password is expired.")
        resource = scope[0][: -len("/.default")]
        token = self._issue(client_id.lower(), resource)
        return json_response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.lifetime_seconds,
                "ext_expires_in": self.lifetime_seconds,
                "access_token": token,
            },
        )

    def _issue(self, client_id: str, resource: str) -> str:
        now = time.time()
        audience: Audience = "bc" if resource.rstrip("/").lower() == BC_RESOURCE else "dataverse"
        header = {"typ": "JWT", "alg": "RS256", "kid": "sandbox"}
        claims = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{SANDBOX_TENANT}/",
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + self.lifetime_seconds),
            "appid": client_id,
            "tid": SANDBOX_TENANT,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
            "uti": secrets.token_urlsafe(16),
        }
        token = ".".join(
            (
                _b64(json.dumps(header).encode()),
                _b64(json.dumps(claims).encode()),
                _b64(secrets.token_bytes(32)),
            )
        )
        with self._lock:
            self._grants[token] = Grant(client_id, audience, resource, now + self.lifetime_seconds)
        return token

    def check(self, authorization: str | None, audience: Audience) -> Grant | None:
        """The grant behind `Authorization: Bearer …` if it is known, unexpired and meant for this API."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        with self._lock:
            grant = self._grants.get(authorization[7:].strip())
        if grant is None or grant.expires_at <= time.time() or grant.audience != audience:
            return None
        return grant

    def revoke_all(self) -> None:
        """Forget every issued token (a password reset ends the sessions)."""
        with self._lock:
            self._grants.clear()


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """client_id and client_secret from the form (client_secret_post) or Basic auth (client_secret_basic)."""
    authorization = request.header("authorization") or ""
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ":"
        user, _, password = decoded.partition(":")
        return unquote(user), unquote(password)
    return form.get("client_id", ""), form.get("client_secret", "")
