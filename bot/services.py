"""build_services: the shared objects of one process (store, Slack client, connectors), built once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.connectors import BusinessCentralClient, DataverseClient, RetryPolicy, TokenProvider
from bot.operations.base import OperationError
from bot.store import open_store

if TYPE_CHECKING:
    from bot.sync.engine import SyncEngine

HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class NotConfigured(OperationError):
    """A feature needs settings that are missing; the message names them."""


def build_slack_client(settings: Settings) -> WebClient | None:
    """Our WebClient (SLACK_API_URL honoured), retrying connection errors, one 429 and one 5xx."""
    token = settings.secret("slack_bot_token")
    if not token:
        return None
    client = WebClient(
        token=token,
        base_url=(settings.slack_api_url + "/") if settings.slack_api_url else WebClient.BASE_URL,
        timeout=15,
    )
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=1),
        ServerErrorRetryHandler(max_retry_count=1),
    ]
    return client


@dataclass
class Connectors:
    """Both business-app clients sharing one HTTP connection pool and one token provider."""

    http: httpx.Client
    tokens: TokenProvider
    bc: BusinessCentralClient
    dataverse: DataverseClient

    def close(self) -> None:
        """Close the connections."""
        self.tokens.close()
        self.http.close()


def build_connectors(settings: Settings, *, retry: RetryPolicy | None = None) -> Connectors:
    """Build the clients from BC_API_URL, DATAVERSE_URL and the Entra client credentials."""
    missing = [
        name.upper()
        for name in (
            "bc_api_url",
            "dataverse_url",
            "auth_token_url",
            "azure_client_id",
            "azure_client_secret",
        )
        if not getattr(settings, name)
    ]
    if missing:
        hint = " (or AZURE_TENANT_ID)" if "AUTH_TOKEN_URL" in missing else ""
        raise NotConfigured(
            f"Business Central and Dataverse are not configured: set {', '.join(missing)}{hint}."
        )
    assert (
        settings.bc_api_url
        and settings.dataverse_url
        and settings.auth_token_url
        and settings.azure_client_id
    )
    http = httpx.Client(timeout=HTTP_TIMEOUT)
    tokens = TokenProvider(
        settings.auth_token_url, settings.azure_client_id, settings.secret("azure_client_secret") or ""
    )
    bc = BusinessCentralClient(
        http,
        api_url=settings.bc_api_url,
        tokens=tokens,
        company_id=settings.bc_company_id,
        web_url=settings.bc_web_url,
        retry=retry,
    )
    dataverse = DataverseClient(http, environment_url=settings.dataverse_url, tokens=tokens, retry=retry)
    return Connectors(http=http, tokens=tokens, bc=bc, dataverse=dataverse)


@dataclass
class Services:
    """Everything a listener, a job or a command needs, built once per process."""

    settings: Settings
    db: Engine
    slack: WebClient | None = None
    _connectors: Connectors | None = field(default=None, repr=False)

    @property
    def connectors(self) -> Connectors:
        """The business-app clients, built on first use; NotConfigured names missing settings."""
        if self._connectors is None:
            self._connectors = build_connectors(self.settings)
        return self._connectors

    def sync_engine(self) -> SyncEngine:
        """A sync engine on the connectors posting to SLACK_CHANNEL (NotConfigured names missing settings)."""
        from bot.sync.engine import SyncEngine

        connectors = self.connectors
        return SyncEngine(
            db=self.db, bc=connectors.bc, dataverse=connectors.dataverse, channel=self.settings.slack_channel
        )

    @property
    def seal_key(self) -> str:
        """The key that seals modal metadata (bot.seal): the signing secret, else the bot token."""
        return self.settings.secret("slack_signing_secret") or self.settings.secret("slack_bot_token") or ""

    def is_admin(self, user_id: str) -> bool:
        """True when the Slack user is one of SYNC_ADMINS."""
        return user_id in self.settings.sync_admins

    def close(self) -> None:
        """Release connections."""
        if self._connectors is not None:
            self._connectors.close()
        self.db.dispose()


def build_services(
    settings: Settings, *, db: Engine | None = None, slack: WebClient | None = None
) -> Services:
    """Open the store (migrated) and build the Slack client; connectors are built when first needed."""
    return Services(
        settings=settings,
        db=db if db is not None else open_store(settings),
        slack=slack if slack is not None else build_slack_client(settings),
    )
