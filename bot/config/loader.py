"""Reading baton.yaml: YAML in, a checked Config out, or a ConfigError saying what is wrong."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.config.checks import cross_check
from bot.config.errors import ConfigError, Problem, Shown, problems_from, show
from bot.config.schema import Config, with_builtins

#: Where Baton looks when no path is given (BATON_CONFIG unset).
DEFAULT_PATH = Path("baton.yaml")
_SECTIONS = "workspace, admins, defaults, people, teams, sla_policies, escalation_chains"


#: Larger than any real baton.yaml; a bigger file is refused before it is read in full.
MAX_BYTES = 1_000_000
#: Deeper than any real baton.yaml (its deepest value is six levels down); the YAML composer
#: recurses per level, so without a bound a hostile file costs a RecursionError.
MAX_DEPTH = 64
#: More values than a 1 MB file can spell out: aliases may repeat a node without writing it
#: again, and ten of ten of ten... ("billion laughs") would take validation hours.
MAX_VALUES = 500_000


class _Loader(yaml.SafeLoader):
    """YAML 1.2 scalars: `17:30` stays a time, `NO` stays Norway, `on` stays a word.

    Also notes each key given twice in one mapping (plain YAML silently lets the later one
    win), and refuses nesting deeper than MAX_DEPTH.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.duplicates: list[str] = []

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_document(self, node: yaml.Node) -> Any:
        _bounded(node)
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # not hashable, or not a plain key; validation reports it
            if key in seen:
                mark = key_node.start_mark
                self.duplicates.append(f"line {mark.line + 1}, column {mark.column + 1}: "
                                       f"invalid YAML: found duplicate key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _bounded(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it past MAX_VALUES values or MAX_DEPTH levels,
    or make it contain itself. Walks each node once (aliases share nodes), without recursion."""
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) once expanded
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in measured:
            continue
        children = _children(node)
        if not children_done:
            open_.add(key)
            stack.append((node, True))
            for child in children:
                if id(child) in open_:
                    raise yaml.constructor.ConstructorError(
                        None, None, "an alias makes this value contain itself",
                        child.start_mark)
                if id(child) not in measured:
                    stack.append((child, False))
            continue
        open_.discard(key)
        values = 1 + sum(measured[id(c)][0] for c in children)
        depth = 1 + max((measured[id(c)][1] for c in children), default=0)
        if values > MAX_VALUES or depth > MAX_DEPTH:
            limit = (f"more than {MAX_VALUES:,} values" if values > MAX_VALUES else
                     f"deeper than {MAX_DEPTH} levels")
            raise yaml.constructor.ConstructorError(
                None, None, f"aliases expand this value to {limit}", node.start_mark)
        measured[key] = (values, depth)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


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
    data, duplicates = _read(_text_of(path, source), source)
    return _checked(data, source, duplicates)


def _text_of(path: Path, source: str) -> str:
    """The file's text, read no further than MAX_BYTES (BATON_CONFIG=/dev/zero ends)."""
    if not path.exists():
        raise ConfigError([f"{source}: no such file (unset BATON_CONFIG, or point it at a "
                           "baton.yaml, to use the built-in defaults)"])
    if path.is_dir():
        raise ConfigError([f"{source}: is a directory, expected a baton.yaml file"])
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError([f"{source}: cannot be read: {exc.strerror or exc}"]) from None
    if len(data) > MAX_BYTES:
        raise ConfigError([f"{source}: larger than {MAX_BYTES // 1_000_000} MB; a baton.yaml "
                           "is far smaller (is BATON_CONFIG the right file?)"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{source}: not UTF-8 text (byte {exc.start + 1} cannot be "
                           "decoded)"]) from None


def read_yaml(text: str, source: str = "baton.yaml") -> Any:
    """The YAML document in `text`; a syntax error or a key given twice becomes a ConfigError
    with its line."""
    data, duplicates = _read(text, source)
    if duplicates:
        raise ConfigError(duplicates)
    return data


def parse_config(data: Any, source: str = "baton.yaml") -> Config:
    """A Config from parsed YAML; an empty document is an empty configuration."""
    return _checked(data, source, [])


def _read(text: str, source: str) -> tuple[Any, list[str]]:
    """The document, and a line for each key given twice in it (the later one won)."""
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or exc.context or "not valid YAML"
        raise ConfigError([f"{source}: {where}invalid YAML: {what}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: invalid YAML: {exc}"]) from None
    finally:
        loader.dispose()
    return data, [f"{source}: {duplicate}" for duplicate in loader.duplicates]


def _checked(data: Any, source: str, lines: list[str]) -> Config:
    """Every problem of the file in one ConfigError, after the `lines` already found: each
    field that does not validate, and each reference between sections that does not hold."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([*lines, Problem(
            "", f"expected a mapping of sections ({_SECTIONS}) at the top level",
            _described(data)).render(source)])
    config = None
    try:
        config = Config.model_validate(data, context={"source": source, "cross_checked": True})
    except ValidationError as exc:
        lines = lines + [p.render(source) for p in problems_from(exc, Config)]
    lines = lines + [p.render(source) for p in cross_check(with_builtins(data))]
    if lines or config is None:
        raise ConfigError(lines)
    return config


def _described(value: Any) -> Shown:
    if isinstance(value, list):
        return Shown("a list")
    return Shown(f"the text {show(value)}" if isinstance(value, str) else show(value))
