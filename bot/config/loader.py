"""Reading baton.yaml: YAML in, a checked Config out, or a ConfigError saying what is wrong."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.config.errors import ConfigError, Problem, Shown, problems_from, show
from bot.config.schema import Config

#: Where Baton looks when no path is given (BATON_CONFIG unset).
DEFAULT_PATH = Path("baton.yaml")
_SECTIONS = "workspace, admins, defaults, people, teams, sla_policies, escalation_chains"


class _Loader(yaml.SafeLoader):
    """YAML 1.2 scalars: `17:30` stays a time, `NO` stays Norway, `on` stays a word.

    Also refuses a key given twice in one mapping, which plain YAML silently lets the
    later one win.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # not hashable, or not a plain key; validation reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"found duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Dates stay text too, so pydantic reports a bad one (2026-13-01) with its path.
_REPLACED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
             "tag:yaml.org,2002:timestamp"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def default_config() -> Config:
    """The configuration with no baton.yaml: one open team, 24x7 SLAs, no digests, UTC."""
    return Config.model_validate({})


def load_config(path: Path | None = None) -> Config:
    """The configuration in `path`; with None, ./baton.yaml if there is one, else the default.

    Raise ConfigError naming the file, the place in it and what was expected.
    """
    if path is None:
        if not DEFAULT_PATH.is_file():
            return default_config()
        path = DEFAULT_PATH
    source = str(path)
    if not path.exists():
        raise ConfigError([f"{source}: no such file (unset BATON_CONFIG, or point it at a "
                           "baton.yaml, to use the built-in defaults)"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{source}: cannot be read: {exc}"]) from None
    return parse_config(read_yaml(text, source), source)


def read_yaml(text: str, source: str = "baton.yaml") -> Any:
    """The YAML document in `text`; a syntax error becomes a ConfigError with its line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or exc.context or "not valid YAML"
        raise ConfigError([f"{source}: {where}invalid YAML: {what}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: invalid YAML: {exc}"]) from None


def parse_config(data: Any, source: str = "baton.yaml") -> Config:
    """A Config from parsed YAML; an empty document is an empty configuration."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([Problem(
            "", f"expected a mapping of sections ({_SECTIONS}) at the top level",
            _described(data)).render(source)])
    try:
        return Config.model_validate(data, context={"source": source})
    except ValidationError as exc:
        raise ConfigError(p.render(source) for p in problems_from(exc, Config)) from None


def _described(value: Any) -> Shown:
    if isinstance(value, list):
        return Shown("a list")
    return Shown(f"the text {show(value)}" if isinstance(value, str) else show(value))
