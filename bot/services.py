"""build_services: the shared objects of one process (store, Slack client, connectors), built once."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import httpx
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.config import DEFAULT_DATABASE_URL, Settings
from bot.connectors import BusinessCentralClient, DataverseClient, RetryPolicy, TokenProvider
from bot.connectors.pacing import BUSINESS_CENTRAL_LIMITS, DATAVERSE_LIMITS, PacingLimits
from bot.notify.retries import safe_retry_handlers
from bot.operations.base import OperationError
from storage.db import make_engine
from storage.schema import require_current, schema_state, upgrade

if TYPE_CHECKING:
    from bot.sync.engine import SyncEngine

HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

log = logging.getLogger(__name__)


class NotConfigured(OperationError):
    """A feature needs settings that are missing; the message names them."""


def open_store(settings: Settings) -> Engine:
    """Return an engine on a current store; the default SQLite file is created on first use.

    Raises storage.schema.SchemaOutdated (one line telling the user to run `sync-errors db upgrade`) when
    another store is unmigrated or outdated.
    """
    engine = make_engine(settings.database_url)
    if settings.database_url == DEFAULT_DATABASE_URL and schema_state(engine).current is None:
        upgrade(engine)
    require_current(engine)
    return engine


def build_slack_client(settings: Settings) -> WebClient | None:
    """Our WebClient (SLACK_API_URL honoured): retries connection errors, 429 and 5xx, never a post's 5xx."""
    token = settings.secret("slack_bot_token")
    if not token:
        return None
    client = WebClient(
        token=token,
        base_url=(settings.slack_api_url + "/") if settings.slack_api_url else WebClient.BASE_URL,
        timeout=15,
    )
    client.retry_handlers = safe_retry_handlers()
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
        self.bc.close()
        self.dataverse.close()
        self.tokens.close()
        self.http.close()


def build_connectors(settings: Settings, *, retry: RetryPolicy | None = None) -> Connectors:
    """Build the clients from BC_API_URL, DATAVERSE_URL and the Entra client credentials."""
    # AUTH_TOKEN_URL is derived from AZURE_TENANT_ID, so the tenant is what people are asked for.
    names = {"auth_token_url": "AZURE_TENANT_ID (or AUTH_TOKEN_URL)"}
    missing = [
        names.get(name, name.upper())
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
        raise NotConfigured(f"Business Central and Dataverse are not configured: set {', '.join(missing)}.")
    assert (
        settings.bc_api_url
        and settings.dataverse_url
        and settings.auth_token_url
        and settings.azure_client_id
    )
    from bot.sync.columns import columns_by_table
    from storage.models import System

    columns = columns_by_table()
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
        pacing=bc_pacing(settings),
        batch_size=settings.bc_batch_size,
        columns=columns[System.BUSINESS_CENTRAL],
    )
    dataverse = DataverseClient(
        http,
        environment_url=settings.dataverse_url,
        tokens=tokens,
        retry=retry,
        pacing=dataverse_pacing(settings),
        batch_size=settings.dataverse_batch_size,
        columns=columns[System.DATAVERSE],
    )
    return Connectors(http=http, tokens=tokens, bc=bc, dataverse=dataverse)


def dataverse_pacing(settings: Settings) -> PacingLimits:
    """Dataverse's limits for this bot: DATAVERSE_MAX_CONCURRENCY and DATAVERSE_REQUESTS_PER_5_MINUTES."""
    return replace(
        DATAVERSE_LIMITS,
        max_concurrency=settings.dataverse_max_concurrency,
        requests_per_window=settings.dataverse_requests_per_5_minutes,
    )


def bc_pacing(settings: Settings) -> PacingLimits:
    """Business Central's limits for this bot: BC_MAX_CONCURRENCY and BC_REQUESTS_PER_5_MINUTES."""
    return replace(
        BUSINESS_CENTRAL_LIMITS,
        max_concurrency=settings.bc_max_concurrency,
        requests_per_window=settings.bc_requests_per_5_minutes,
    )


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

    def sync_engine_or_none(self, *, cannot: str, warned: threading.Event) -> SyncEngine | None:
        """The sync engine, or None while settings are missing (logged once per `warned`: "<cannot>: ...")."""
        try:
            return self.sync_engine()
        except NotConfigured as missing:
            if not warned.is_set():
                log.error("%s: %s", cannot, missing)
                warned.set()
            return None

    @property
    def seal_key(self) -> str:
        """The key that seals modal metadata (handlers.seal): the signing secret, else the bot token."""
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
