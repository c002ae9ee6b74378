"""Baton's environment: secrets, URLs and where baton.yaml is (BATON_* variables and .env).

Invalid values stop Baton at start with one line per variable:
`BATON_PORT: expected a port number from 1 to 65535, got 'abc'`.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config import DEFAULT_PATH, ConfigError
from bot.delivery import EVERY_MESSAGE, ITEM_CHANGES, Delivering

ChatSurface = Literal["slack", "teams"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
PREFIX = "BATON_"
#: The example organisation shipped beside the code; used when there is no baton.yaml.
EXAMPLE_PATH = Path("baton.example.yaml")


class SettingsError(ConfigError):
    """An environment variable Baton cannot use; str() is one line per variable."""


class Settings(BaseSettings):
    """Everything Baton reads from the environment; an empty variable counts as unset."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True,
        extra="ignore", frozen=True,
        # Only what the environment gives is checked: the defaults below are valid (a test
        # checks them), and checking the database URL imports SQLAlchemy.
        validate_default=False)

    database_url: str = "sqlite+aiosqlite:///baton.db"
    redis_url: str | None = None
    config: Path | None = None  # baton.yaml; None: ./baton.yaml if it exists, else defaults
    host: str = "127.0.0.1"
    public_url: str | None = None  # where Slack and Teams reach Baton: https://baton.example.com
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: LogLevel = "INFO"

    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None  # xoxb-, one workspace
    slack_app_token: SecretStr | None = None  # xapp-, Socket Mode
    slack_client_id: str | None = None  # with the secret: OAuth installs, many workspaces
    slack_client_secret: SecretStr | None = None
    slack_api_url: str | None = None  # tests and proxies; None: Slack's own
    slack_reaction_emoji: str | None = None  # e.g. rotating_light: raises an exception

    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_tenant_id: str | None = None  # single-tenant bots
    teams_local: bool = False  # no Bot Framework auth: the Emulator, local tests
    teams_openid_metadata_url: str | None = None  # sovereign clouds, tests
    teams_login_url: str | None = None  # where the bot gets its tokens: sovereign clouds, tests

    console_user: str | None = None  # who `baton chat` speaks as by default

    api_rate_limit: str = "600/minute"  # per API token, as "N/second|minute|hour"

    data_dir: Path = Path("var")  # files Baton keeps: charts, the audit checkpoints
    audit_key: Path | None = None  # the checkpoints' signing key; None: data_dir/audit/signing.key
    replica_id: str | None = None  # names this process's outbox leases; None: the host name
    outbox_max_attempts: int = 8  # failed deliveries before a message is parked (1-100)
    sweep_seconds: float = 15.0  # how often follow-ups are swept (0-3600 s)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_lines(exc)) from None

    @classmethod
    def from_env(cls) -> Settings:
        """The settings from BATON_* variables and ./.env; SettingsError if one is invalid."""
        return cls()

    def replica(self) -> str:
        """This process's name among replicas: BATON_REPLICA_ID, else the host name (stable
        across restarts of a container, so a restarted replica takes back its own leases)."""
        return self.replica_id or socket.gethostname()

    def config_path(self) -> Path | None:
        """BATON_CONFIG, else ./baton.yaml, else ./baton.example.yaml (in a clone of Baton's
        repository: the demo's organisation, as `make run` has it), else None (the built-in
        default). Every command finds the same file, so the demo's hint leads where it says."""
        if self.config is not None:
            return self.config
        return next((path for path in (DEFAULT_PATH, EXAMPLE_PATH) if path.is_file()), None)

    @field_validator("outbox_max_attempts")
    @classmethod
    def _attempts(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise PydanticCustomError("range", "a whole number from 1 to 100")
        return value

    @field_validator("api_rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        if not re.fullmatch(r"\s*[1-9]\d{0,8}\s*/\s*(second|minute|hour|day)\s*", value):
            raise PydanticCustomError("rate", "a rate such as 600/minute (per second, minute, "
                                              "hour or day)")
        return value.replace(" ", "")

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is None:
            return None
        try:
            parts = urlsplit(value.strip())
            ok = parts.scheme == "https" and bool(parts.hostname) and not parts.username
        except ValueError:
            ok = False
        if not ok:
            raise PydanticCustomError("url", "an https address at which Slack and Teams "
                                             "reach Baton, as in https://baton.example.com")
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        # Imported here, when BATON_DATABASE_URL is set, not by every command that reads the
        # settings (SQLAlchemy takes a third of a second to import).
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        from store.urls import sqlite_in_memory

        try:
            url = make_url(value)
        except ArgumentError:
            raise PydanticCustomError(
                "url", "a database URL (sqlite:///baton.db or postgresql://…)") from None
        backend = url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise PydanticCustomError(
                "url", "a SQLite or PostgreSQL URL (sqlite:///baton.db or postgresql://…)")
        if backend == "sqlite" and sqlite_in_memory(url):
            raise PydanticCustomError(
                "url", "a SQLite file (sqlite:///baton.db), not an in-memory database")
        return value

    @field_validator("sweep_seconds")
    @classmethod
    def _sweep(cls, value: float) -> float:
        if not 0 < value <= 3600:
            raise PydanticCustomError("range", "a number of seconds above 0, at most 3600")
        return value

    @field_validator("teams_openid_metadata_url", "teams_login_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value.strip()):
            raise PydanticCustomError("url", "an http(s):// address")
        return value.strip()

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _complete(self) -> Settings:
        problems = []
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            given, missing = ("client_id", "client_secret") if self.slack_client_id else (
                "client_secret", "client_id")
            problems.append(f"{_var('slack_' + missing)}: expected a value with "
                            f"{_var('slack_' + given)} (OAuth needs both), got nothing")
        if self.slack_app_token and not (self.slack_bot_token or self.slack_client_id):
            problems.append(f"{_var('slack_bot_token')}: expected a value with "
                            f"{_var('slack_app_token')} (Socket Mode), got nothing")
        over_http = (self.slack_bot_token or self.slack_client_id) and not self.slack_app_token
        if over_http and not self.slack_signing_secret:
            problems.append(f"{_var('slack_signing_secret')}: expected a value for Slack over "
                            f"HTTP (or {_var('slack_app_token')} for Socket Mode), got nothing")
        problems += self._teams_problems()
        if problems:
            raise SettingsError(problems)
        return self

    def _teams_problems(self) -> list[str]:
        """Teams with an app id checks every request's token; without one it cannot, so an
        app id left out never silently turns the checks off: only BATON_TEAMS_LOCAL=1 does."""
        given = [name for name in ("teams_app_password", "teams_tenant_id",
                                   "teams_openid_metadata_url", "teams_login_url")
                 if getattr(self, name)]
        if not self.teams_app_id and not self.teams_local and given:
            return [f"{_var('teams_app_id')}: expected the Teams bot's app id with "
                    f"{_var(given[0])} (or {_var('teams_local')}=1 to run Teams without token "
                    f"checks), got nothing"]
        return []

    def check_serving(self) -> None:
        """What serving (not packaging) needs besides: a Teams bot with an app id signs in
        with its secret to answer. SettingsError, one line, when that is missing."""
        if self.teams_app_id and not self.teams_app_password:
            raise SettingsError([
                f"{_var('teams_app_password')}: expected the bot's client secret with "
                f"{_var('teams_app_id')} (Baton signs in to answer), got nothing"])

    def chat_surfaces(self) -> tuple[ChatSurface, ...]:
        """The chat platforms whose credentials are set: Slack, Teams, both or neither."""
        chosen: list[ChatSurface] = []
        if self.slack_bot_token or self.slack_app_token or self.slack_client_id:
            chosen.append("slack")
        if self.teams_app_id or self.teams_local:
            chosen.append("teams")
        return tuple(chosen)

    def delivering(self) -> dict[str, Delivering]:
        """The surfaces that deliver Baton's messages, and what each takes: the chat platforms
        configured (else the console: `baton chat` prints them) take every message; the API
        (`baton serve` posts its webhooks) takes what happens to items."""
        chat: dict[str, Delivering] = {s: EVERY_MESSAGE for s in self.chat_surfaces()}
        return {**(chat or {"console": EVERY_MESSAGE}), "api": ITEM_CHANGES}


_EXPECTED = {
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "greater_than_equal": "expected a port number from 1 to 65535",
    "less_than_equal": "expected a port number from 1 to 65535",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected text",
    "path_type": "expected a file path",
}


def _var(field: str) -> str:
    return f"{PREFIX}{field.upper()}"


def _lines(error: ValidationError) -> list[str]:
    lines = []
    for detail in error.errors(include_url=False):
        field = str(detail["loc"][0]) if detail["loc"] else ""
        kind = detail["type"]
        if kind == "literal_error":
            expected = "expected one of " + str((detail.get("ctx") or {}).get("expected", ""))
            expected = expected.replace("'", "")
        else:
            expected = _EXPECTED.get(kind) or "expected " + detail["msg"][:1].lower() + \
                detail["msg"][1:]
        if field == "port" and kind in ("int_parsing", "int_type"):
            expected = _EXPECTED["greater_than_equal"]
        shown = "a value (hidden)" if field in _SECRETS else repr(detail.get("input"))
        lines.append(f"{_var(field)}: {expected}, got {shown}")
    return lines


_SECRETS = frozenset(name for name, info in Settings.model_fields.items()
                     if info.annotation in (SecretStr, SecretStr | None))
