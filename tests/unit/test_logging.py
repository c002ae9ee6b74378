"""BATON_LOG_LEVEL: log lines on stderr with time, level and logger; the terminal console
stays quiet unless a level is chosen."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from baton.cli import configure_logging
from baton.settings import Settings


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(("command", "values", "level"), [
    ("serve", {}, logging.INFO),
    ("serve", {"log_level": "DEBUG"}, logging.DEBUG),
    ("run", {}, logging.WARNING),  # the console: log lines would split the conversation
    ("chat", {"log_level": "INFO"}, logging.INFO),  # unless asked for
    ("run", {"slack_bot_token": "xoxb-1-token", "slack_signing_secret": "s" * 16},
     logging.INFO),  # `run` with Slack credentials serves
])
def test_the_level_follows_the_command_and_the_setting(
        command: str, values: dict[str, object], level: int) -> None:
    configure_logging(_settings(**values), command)
    assert logging.getLogger().level == level


def test_a_line_names_its_time_level_and_logger(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(_settings(log_level="INFO"), "serve")
    logging.getLogger("baton.test").info("hello %s", "there")
    line = capsys.readouterr().err.strip()
    assert line.endswith(" INFO baton.test: hello there")
    assert line[:4].isdigit()  # the date first
