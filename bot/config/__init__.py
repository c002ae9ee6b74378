"""baton.yaml: its schema, loading it with clear errors, and the directory built from it."""

from bot.config.directory import ConfigDirectory
from bot.config.errors import ConfigError
from bot.config.fields import WeeklyTime
from bot.config.loader import DEFAULT_PATH, default_config, load_config, parse_config, read_yaml
from bot.config.schema import (
    BusinessHours,
    Channels,
    Config,
    Defaults,
    Digests,
    EscalationStep,
    Holidays,
    Notify,
    PersonConfig,
    Reassign,
    SlaPolicy,
    Target,
    TeamConfig,
)

__all__ = [
    "DEFAULT_PATH",
    "BusinessHours",
    "Channels",
    "Config",
    "ConfigDirectory",
    "ConfigError",
    "Defaults",
    "Digests",
    "EscalationStep",
    "Holidays",
    "Notify",
    "PersonConfig",
    "Reassign",
    "SlaPolicy",
    "Target",
    "TeamConfig",
    "WeeklyTime",
    "default_config",
    "load_config",
    "parse_config",
    "read_yaml",
]
