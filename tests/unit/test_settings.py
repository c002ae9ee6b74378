"""The environment: BATON_* variables and .env, one clear line per bad variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from baton.settings import Settings, SettingsError
from bot.config import ConfigError
from bot.delivery import EVERY_MESSAGE, ITEM_CHANGES
from bot.messages import Audience


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No BATON_* from the machine running the tests, and no stray .env."""
    for name in list(os.environ):
        if name.upper().startswith("BATON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///baton.db"
    assert settings.redis_url is None
    assert settings.config is None
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 3000, "INFO")
    assert settings.teams_local is False
    assert settings.chat_surfaces() == () and tuple(settings.delivering()) == ("console", "api")


def test_values_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_DATABASE_URL", "postgresql+asyncpg://baton@db/baton")
    monkeypatch.setenv("BATON_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("BATON_CONFIG", "/etc/baton/baton.yaml")
    monkeypatch.setenv("BATON_HOST", "0.0.0.0")
    monkeypatch.setenv("BATON_PORT", "8080")
    monkeypatch.setenv("BATON_LOG_LEVEL", "debug")
    monkeypatch.setenv("BATON_CONSOLE_USER", "alice")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql+asyncpg://baton@db/baton"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.config == Path("/etc/baton/baton.yaml")
    assert settings.config_path() == Path("/etc/baton/baton.yaml")
    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 8080, "DEBUG")
    assert settings.console_user == "alice"


def test_secrets_are_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_SLACK_BOT_TOKEN", "xoxb-123")
    monkeypatch.setenv("BATON_SLACK_SIGNING_SECRET", "shh")
    settings = Settings()
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-123"
    assert "xoxb-123" not in repr(settings) and "shh" not in repr(settings)


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BATON_PORT=4000\nPOSTGRES_PASSWORD=x\n", encoding="utf-8")
    assert Settings().port == 4000


def test_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_REDIS_URL", "")
    monkeypatch.setenv("BATON_PORT", "")
    settings = Settings()
    assert settings.redis_url is None and settings.port == 3000


def test_config_path_defaults_to_baton_yaml_when_present(tmp_path: Path) -> None:
    assert Settings().config_path() is None
    (tmp_path / "baton.yaml").write_text("teams: {}\n", encoding="utf-8")
    assert Settings().config_path() == Path("baton.yaml")


def test_bad_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_PORT", "http")
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert str(caught.value) == "BATON_PORT: expected a port number from 1 to 65535, got 'http'"
    assert isinstance(caught.value, ConfigError)


def test_port_out_of_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_PORT", "70000")
    with pytest.raises(SettingsError, match=r"^BATON_PORT: expected a port number from 1 to "
                                            r"65535, got '70000'$"):
        Settings()


@pytest.mark.parametrize(("url", "expected"), [
    ("baton.db", "a database URL (sqlite:///baton.db or postgresql://…)"),
    ("mysql://db/baton", "a SQLite or PostgreSQL URL (sqlite:///baton.db or postgresql://…)"),
    ("sqlite://", "a SQLite file (sqlite:///baton.db), not an in-memory database"),
    ("sqlite+aiosqlite:///:memory:",
     "a SQLite file (sqlite:///baton.db), not an in-memory database"),
])
def test_a_database_url_baton_cannot_use_is_named(monkeypatch: pytest.MonkeyPatch, url: str,
                                                  expected: str) -> None:
    monkeypatch.setenv("BATON_DATABASE_URL", url)
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert str(caught.value) == f"BATON_DATABASE_URL: expected {expected}, got {url!r}"


def test_each_bad_variable_gets_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_LOG_LEVEL", "chatty")
    monkeypatch.setenv("BATON_TEAMS_LOCAL", "maybe")
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert str(caught.value).splitlines() == [
        "BATON_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR or CRITICAL, "
        "got 'CHATTY'",
        "BATON_TEAMS_LOCAL: expected true or false, got 'maybe'",
    ]


@pytest.mark.parametrize(("env", "surfaces"), [
    ({}, ("console",)),
    ({"BATON_SLACK_BOT_TOKEN": "xoxb-1", "BATON_SLACK_SIGNING_SECRET": "s"}, ("slack",)),
    ({"BATON_SLACK_BOT_TOKEN": "xoxb-1", "BATON_SLACK_APP_TOKEN": "xapp-1"}, ("slack",)),
    ({"BATON_SLACK_CLIENT_ID": "1.2", "BATON_SLACK_CLIENT_SECRET": "c",
      "BATON_SLACK_SIGNING_SECRET": "s"}, ("slack",)),
    ({"BATON_TEAMS_APP_ID": "app", "BATON_TEAMS_APP_PASSWORD": "pw"}, ("teams",)),
    ({"BATON_TEAMS_LOCAL": "true"}, ("teams",)),
    ({"BATON_TEAMS_LOCAL": "true", "BATON_SLACK_BOT_TOKEN": "xoxb-1",
      "BATON_SLACK_SIGNING_SECRET": "s"}, ("slack", "teams")),  # both at once
    ({"BATON_SLACK_SIGNING_SECRET": "s"}, ("console",)),  # a secret alone cannot chat
])
def test_surfaces_that_deliver(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                               surfaces: tuple[str, ...]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    delivering = Settings().delivering()
    assert tuple(delivering) == (*surfaces, "api")  # the API's webhooks, always
    assert all(delivering[s] == EVERY_MESSAGE for s in surfaces)
    # ... but only what happens to items, each change on its own: no chat message gains a row
    assert delivering["api"] == ITEM_CHANGES
    assert delivering["api"].audiences == {Audience.CARD, Audience.CARD_UPDATE}
    assert not delivering["api"].ordered


@pytest.mark.parametrize(("env", "message"), [
    ({"BATON_SLACK_BOT_TOKEN": "xoxb-1"},
     "BATON_SLACK_SIGNING_SECRET: expected a value for Slack over HTTP (or "
     "BATON_SLACK_APP_TOKEN for Socket Mode), got nothing"),
    ({"BATON_SLACK_CLIENT_ID": "1.2", "BATON_SLACK_SIGNING_SECRET": "s"},
     "BATON_SLACK_CLIENT_SECRET: expected a value with BATON_SLACK_CLIENT_ID (OAuth needs "
     "both), got nothing"),
    ({"BATON_SLACK_APP_TOKEN": "xapp-1"},
     "BATON_SLACK_BOT_TOKEN: expected a value with BATON_SLACK_APP_TOKEN (Socket Mode), "
     "got nothing"),
])
def test_incomplete_slack_credentials(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                      message: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert str(caught.value) == message
