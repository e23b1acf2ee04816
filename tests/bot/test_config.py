"""Settings: defaults, environment and .env, URL normalisation, one-line errors, no secrets shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings, normalise_database_url


def test_defaults_match_the_contract() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///sync_errors.db"
    assert settings.retention_days == 7
    assert settings.sync_interval_minutes == 30
    assert settings.sync_admins == []
    assert settings.log_level.value == "INFO" and settings.log_format.value == "console"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
        ("postgresql://u@db/x", "postgresql+psycopg://u@db/x"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:///a.db", "sqlite:///a.db"),
    ],
)
def test_postgres_urls_use_psycopg_3(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


def test_environment_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SYNC_ADMINS=U1, U2\nRETENTION_DAYS=14\n")
    monkeypatch.setenv("SLACK_CHANNEL", "C0123")
    monkeypatch.setenv("DATABASE_URL", "postgres://db/x")
    settings = load_settings()
    assert settings.sync_admins == ["U1", "U2"]
    assert settings.retention_days == 14
    assert settings.slack_channel == "C0123"
    assert settings.database_url == "postgresql+psycopg://db/x"


def test_token_url_is_built_from_the_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
    assert load_settings().auth_token_url == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RETENTION_DAYS", "soon"),
        ("RETENTION_DAYS", "0"),
        ("SYNC_INTERVAL_MINUTES", "-5"),
        ("SLACK_CHANNEL", "#sync-errors"),
        ("BC_API_URL", "api.businesscentral.dynamics.com"),
        ("LOG_FORMAT", "xml"),
        ("DATABASE_URL", "sync.db"),
    ],
)
def test_a_malformed_value_names_the_variable_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{name}:")
    assert "\n" not in message


def test_secrets_never_show_in_the_settings_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "s3cr3t-value")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    settings = load_settings()
    assert "s3cr3t-value" not in repr(settings) and "xoxb-very-secret" not in str(settings.model_dump())
    assert settings.secret("azure_client_secret") == "s3cr3t-value"
