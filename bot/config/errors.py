"""ConfigError, and how a problem in baton.yaml is told: file, dotted path, expected, got."""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError


class Shown(str):
    """A `got` already written as it should be shown."""

    def __repr__(self) -> str:
        return str(self)


#: What a Problem got when nothing was given (a missing key).
NOTHING = Shown("nothing")


class ConfigError(Exception):
    """Invalid configuration; str() is one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Problem:
    """One thing wrong at one place: `path` is dotted, as in `teams.eval.hours.start`."""

    path: str
    expected: str
    got: Any = NOTHING
    hint: str = ""

    def render(self, source: str) -> str:
        where = f"{source}: {self.path}: " if self.path else f"{source}: "
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.expected}, got {show(self.got)}{hint}"


def show(value: Any) -> str:
    """A value as the admin wrote it, briefly."""
    if isinstance(value, Shown):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list" if len(repr(value)) > 40 else repr(list(value))
    shown = repr(value) if isinstance(value, str) else str(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def dotted(loc: Sequence[int | str]) -> str:
    """('escalation_chains', 'default', 1, 'notify') -> 'escalation_chains.default[1].notify'."""
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else ""


_EXPECTED = {
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "date_type": "expected a date like 2026-12-24",
    "date_parsing": "expected a date like 2026-12-24",
    "date_from_datetime_parsing": "expected a date like 2026-12-24",
    "date_from_datetime_inexact": "expected a date like 2026-12-24",
}


def problems_from(error: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """Pydantic's errors in baton.yaml's words, one Problem per error."""
    out = []
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        kind, got = detail["type"], detail.get("input", NOTHING)
        ctx = detail.get("ctx") or {}
        hint = ""
        if kind == "missing":
            expected, got = "expected a value (this key is required)", NOTHING
        elif kind == "extra_forbidden":
            allowed = _keys_at(root, loc[:-1])
            expected = f"expected a known key ({', '.join(allowed)})" if allowed else \
                "expected no key here"
            hint = did_you_mean(str(loc[-1]), allowed)
            got = loc[-1]
        elif kind in ("literal_error", "enum"):
            expected = "expected one of " + str(ctx.get("expected", "")).replace("'", "")
        elif kind in _EXPECTED:
            expected = _EXPECTED[kind]
        elif detail["msg"].startswith("expected"):  # ours, from bot.config.fields
            expected, says_got, shown = detail["msg"].partition(", got ")
            got = Shown(shown) if says_got else got
        else:
            expected = "expected " + detail["msg"][:1].lower() + detail["msg"][1:]
        out.append(Problem(dotted(loc), expected, got, hint))
    return out


def _keys_at(root: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys the model at `loc` accepts, found by walking the schema's types."""
    kind: Any = root
    for part in loc:
        kind = _unwrap(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(str(part))
            if field is None:
                return []
            kind = field.annotation
        elif get_origin(kind) in (dict, Mapping):
            kind = get_args(kind)[1]
        elif get_origin(kind) in (list, tuple, Sequence):
            kind = get_args(kind)[0]
        else:
            return []
    kind = _unwrap(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return sorted(kind.model_fields)
    return []


def _unwrap(kind: Any) -> Any:
    origin = get_origin(kind)
    if origin is Annotated:
        return _unwrap(get_args(kind)[0])
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(kind) if arg is not type(None)]
        return _unwrap(members[0]) if members else kind
    return kind
