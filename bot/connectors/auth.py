"""OAuth2 client-credentials tokens for both APIs: one cached token per scope, refreshed before expiry."""

from __future__ import annotations

import re
import threading
import warnings
from typing import Any

import httpx

from bot.connectors.errors import AuthenticationFailed, ConnectorError
from bot.connectors.failures import error_from_response, error_from_transport, json_body

with warnings.catch_warnings():
    # authlib >= 1.9 prefers the "httpx2" fork and warns at import when it falls back to httpx; its own
    # module installs an "always" filter for that warning, so ours must come after that import.
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

BUSINESS_CENTRAL_SCOPE = "https://api.businesscentral.dynamics.com/.default"
DEFAULT_LEEWAY_SECONDS = 60
_AADSTS = re.compile(r"\bAADSTS\d+\b")


def dataverse_scope(environment_url: str) -> str:
    """The `.default` scope of a Dataverse environment, e.g. `https://org.crm4.dynamics.com/.default`."""
    return environment_url.rstrip("/") + "/.default"


def aadsts_code(body: dict[str, Any] | None) -> str | None:
    """The Microsoft Entra error code ("AADSTS50055") of a token-endpoint refusal, when there is one."""
    if not body:
        return None
    codes = body.get("error_codes")
    if isinstance(codes, list) and codes and isinstance(codes[0], int | str):
        return f"AADSTS{codes[0]}"
    match = _AADSTS.search(str(body.get("error_description") or ""))
    return match.group(0) if match else None


def sign_in_refusal(response: httpx.Response) -> AuthenticationFailed:
    """Turn a token endpoint's OAuth2 error answer into AuthenticationFailed (never echoing the request)."""
    body = json_body(response)
    error = str(body.get("error") or "sign_in_refused") if body else "sign_in_refused"
    description = str(body.get("error_description") or "") if body else ""
    message = description.strip() or f"The sign-in service refused the token request ({error})."
    return AuthenticationFailed(
        message=message,
        status=response.status_code,
        code=error,
        system="auth",
        method=response.request.method,
        url=str(response.request.url),
        body=body,
        aadsts=aadsts_code(body),
    )


class TokenProvider:
    """Fetches client-credentials access tokens through authlib and caches one per scope."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        leeway: int = DEFAULT_LEEWAY_SECONDS,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._transport = transport
        self._timeout = timeout
        self._leeway = leeway
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.requests_made = 0

    def __repr__(self) -> str:
        return f"TokenProvider(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def access_token(self, scope: str) -> str:
        """A valid access token for `scope`; fetches one when none is cached or it expires within leeway."""
        with self._lock:
            client = self._client_for(scope)
            token = client.token
            # A token without expires_in never counts as expired; a 401 from the API invalidates it instead.
            if not token or token.is_expired(leeway=self._leeway):
                token = self._fetch(client)
            return str(token["access_token"])

    def invalidate(self, scope: str) -> None:
        """Forget the cached token of `scope` (the API answered 401) so the next call fetches a new one."""
        with self._lock:
            client = self._clients.get(scope)
            if client is not None:
                client.token = None

    def close(self) -> None:
        """Close the HTTP connections of every scope's client."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def _client_for(self, scope: str) -> Any:
        client = self._clients.get(scope)
        if client is None:
            client = OAuth2Client(
                client_id=self.client_id,
                client_secret=self._client_secret,
                token_endpoint_auth_method="client_secret_post",
                scope=scope,
                token_endpoint=self.token_url,
                grant_type="client_credentials",
                leeway=self._leeway,
                timeout=self._timeout,
                transport=self._transport,
            )
            client.register_compliance_hook("access_token_response", self._refuse_errors)
            self._clients[scope] = client
        return client

    def _fetch(self, client: Any) -> Any:
        self.requests_made += 1
        try:
            return client.fetch_token()
        except httpx.TransportError as exc:
            raise error_from_transport(exc, system="auth", method="POST", url=self.token_url) from None

    @staticmethod
    def _refuse_errors(response: httpx.Response) -> httpx.Response:
        if response.status_code == 429 or response.status_code >= 500:
            error: ConnectorError = error_from_response(response, system="auth")
            raise error
        body = json_body(response)
        if not response.is_success or (body is not None and "error" in body):
            raise sign_in_refusal(response)
        return response
