"""Settings: every environment variable of CONTRACT.md, typed, read from the environment and `.env`."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///sync_errors.db"
ENTRA_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"


class LogFormat(StrEnum):
    """How log lines are written."""

    CONSOLE = "console"
    JSON = "json"


class LogLevel(StrEnum):
    """Logging threshold."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable in one line."""


SUPPORTED_DATABASES = (
    "sqlite:///PATH or postgresql://USER@HOST/DB (also postgres:// and postgresql+psycopg://)"
)
_SUPPORTED_SCHEMES = frozenset({"sqlite", "sqlite+pysqlite", "postgres", "postgresql", "postgresql+psycopg"})
_PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z0-9 _.-]*>")
_SECRETS = frozenset({"slack_bot_token", "slack_signing_secret", "slack_app_token", "azure_client_secret"})


def normalise_database_url(url: str) -> str:
    """Make `postgres://` and `postgresql://` URLs use psycopg 3; leave other URLs alone."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    """The bot's configuration, loaded once at start and passed down."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    database_url: str = DEFAULT_DATABASE_URL
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    slack_channel: str | None = None
    sync_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    retention_days: int = Field(default=7, ge=1, le=3650)
    sync_interval_minutes: int = Field(default=30, ge=1, le=10080)
    bc_api_url: str | None = None
    bc_company_id: str | None = None
    bc_web_url: str | None = None
    dataverse_url: str | None = None
    auth_token_url: str | None = None
    azure_tenant_id: str | None = None
    azure_client_id: str | None = None
    azure_client_secret: SecretStr | None = None
    log_level: LogLevel = LogLevel.INFO
    log_format: LogFormat = LogFormat.CONSOLE
    # Burst folding (Sentry's digest rule): first error at once, then hold, extend per error, cap.
    digest_min_seconds: int = Field(default=300, ge=0, le=86400)
    digest_step_seconds: int = Field(default=30, ge=0, le=3600)
    digest_max_seconds: int = Field(default=1800, ge=0, le=86400)
    # How hard the bot may use each service (per integration user). Dataverse allows 52 concurrent requests
    # and Business Central processes 5 at once; the defaults leave room for other clients of the same user.
    dataverse_max_concurrency: int = Field(default=16, ge=1, le=52)
    dataverse_batch_size: int = Field(default=100, ge=1, le=1000)
    dataverse_requests_per_5_minutes: int = Field(default=6000, ge=1, le=6000)
    bc_max_concurrency: int = Field(default=4, ge=1, le=5)
    bc_batch_size: int = Field(default=100, ge=1, le=100)
    bc_requests_per_5_minutes: int = Field(default=6000, ge=1, le=6000)
    # A claimed work item is another worker's to take when its heartbeat stops for this long.
    work_lease_seconds: float = Field(default=15.0, ge=1.0, le=600.0)

    @model_validator(mode="before")
    @classmethod
    def _no_placeholders(cls, values: Any) -> Any:
        # .env.example ships values like https://<org>.crm4.dynamics.com; one copied unchanged is refused.
        if not isinstance(values, dict):
            return values
        for name, value in values.items():
            found = _PLACEHOLDER.search(value) if isinstance(value, str) else None
            if found:
                shown = "a placeholder" if name.lower() in _SECRETS else f"the placeholder {found.group(0)}"
                raise ValueError(f"{name.upper()}: still holds {shown}; put the real value there")
        return values

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError(f"must be a URL: {SUPPORTED_DATABASES}")
        scheme = value.split("://", 1)[0].lower()
        if scheme not in _SUPPORTED_SCHEMES:
            raise ValueError(f"the database {scheme!r} is not supported; use {SUPPORTED_DATABASES}")
        return normalise_database_url(value)

    @field_validator("sync_admins", mode="before")
    @classmethod
    def _split_admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("slack_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and value[:1] not in ("C", "G", "D"):
            raise ValueError("must be a channel ID such as C0123456789 (not a #name)")
        return value

    @field_validator("bc_api_url", "dataverse_url", "bc_web_url", "auth_token_url", "slack_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _digest_order(self) -> Settings:
        if self.digest_max_seconds < self.digest_min_seconds:
            raise ValueError(
                f"DIGEST_MAX_SECONDS: must be at least DIGEST_MIN_SECONDS ({self.digest_min_seconds}), "
                f"not {self.digest_max_seconds}"
            )
        return self

    @model_validator(mode="after")
    def _token_url(self) -> Settings:
        if self.auth_token_url is None and self.azure_tenant_id:
            self.auth_token_url = ENTRA_TOKEN_URL.format(tenant=self.azure_tenant_id)
        return self

    @property
    def is_sqlite(self) -> bool:
        """True when the store is SQLite."""
        return self.database_url.startswith("sqlite")

    def secret(self, name: str) -> str | None:
        """Return the plain value of a secret setting, or None when unset."""
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None


def describe_validation_error(error: ValidationError) -> str:
    """Turn pydantic's report into one line naming the variable and what is wrong (never its value)."""
    first = error.errors()[0]
    reason = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:  # a check across variables already names them
        return reason
    return f"{str(first['loc'][0]).upper()}: {reason}"


def load_settings(**overrides: Any) -> Settings:
    """Load settings from the environment and `.env`; raise SettingsError naming the bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
