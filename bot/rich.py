"""Neutral rich text: what Baton says, with emphasis, commands, links and mentions of people,
items and teams kept as parts, never as platform markup. Each surface renders it its own way
(Slack mrkdwn, Teams markdown and Adaptive Card text, plain text in the console), and escapes
the literal parts, so text a person typed is always text.

The presenters build it with `fmt`, whose template (written by us, never by a user) may mark
*strong* and `code`; every value put into a template is literal text or a part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    TEXT = "t"  # literal text, shown as typed
    STRONG = "b"  # emphasis
    CODE = "c"  # something to type: a command, a flag
    PERSON = "p"  # a person, by Baton's id
    ITEM = "i"  # an item, by number
    TEAM = "g"  # a team, by name
    LINK = "l"  # `text` is the label, `url` where it goes


@dataclass(frozen=True, slots=True)
class Span:
    kind: Kind
    text: str
    url: str = ""

    def plain(self) -> str:
        match self.kind:
            case Kind.PERSON:
                return f"@{self.text}"
            case Kind.ITEM | Kind.TEAM:
                return f"#{self.text}"
            case Kind.LINK:
                return self.url if self.text in ("", self.url) else f"{self.text} ({self.url})"
            case Kind.CODE:  # what to type, quoted as people quote commands in plain text
                return f"`{self.text}`"
        return self.text


@dataclass(frozen=True, slots=True)
class Rich:
    """A run of spans; a newline inside a literal span breaks the line."""

    spans: tuple[Span, ...] = ()

    def __str__(self) -> str:
        """Plain text: people as @id, items as #42, links with their address."""
        return "".join(span.plain() for span in self.spans)

    def __contains__(self, words: str) -> bool:
        """Whether the plain text has these words in it."""
        return words in str(self)

    def __bool__(self) -> bool:
        return any(span.text or span.url for span in self.spans)

    def __add__(self, other: Rich | str) -> Rich:
        return Rich(self.spans + as_rich(other).spans)

    def __radd__(self, other: str) -> Rich:
        return Rich(as_rich(other).spans + self.spans)

    def lines(self) -> list[Rich]:
        """The text split at its line breaks."""
        out: list[list[Span]] = [[]]
        for span in self.spans:
            if span.kind is not Kind.TEXT or "\n" not in span.text:
                out[-1].append(span)
                continue
            first, *rest = span.text.split("\n")
            if first:
                out[-1].append(Span(Kind.TEXT, first))
            for piece in rest:
                out.append([Span(Kind.TEXT, piece)] if piece else [])
        return [Rich(tuple(spans)) for spans in out]

    def people(self) -> list[str]:
        """The people mentioned, in order, once each."""
        return list(dict.fromkeys(s.text for s in self.spans if s.kind is Kind.PERSON))

    def to_json(self) -> list[list[str]]:
        return [[s.kind.value, s.text, s.url] if s.url else [s.kind.value, s.text]
                for s in self.spans]

    @classmethod
    def from_json(cls, data: Any) -> Rich:
        """From `to_json`'s form; plain text stored before rich text existed reads as text."""
        if isinstance(data, str):
            return text(data)
        return cls(tuple(Span(Kind(part[0]), str(part[1]), str(part[2]) if len(part) > 2
                              else "") for part in data))


def as_rich(value: Rich | Span | str | int) -> Rich:
    if isinstance(value, Rich):
        return value
    if isinstance(value, Span):
        return Rich((value,))
    return text(str(value))


def text(value: str) -> Rich:
    return Rich((Span(Kind.TEXT, value),)) if value else Rich()


def strong(value: str) -> Span:
    return Span(Kind.STRONG, value)


def code(value: str) -> Span:
    return Span(Kind.CODE, value)


def person(person_id: str) -> Span:
    return Span(Kind.PERSON, person_id)


def item(number: int) -> Span:
    return Span(Kind.ITEM, str(number))


def team(name: str) -> Span:
    return Span(Kind.TEAM, name)


def link(url: str, label: str = "") -> Span:
    return Span(Kind.LINK, label, url)


def join(parts: Iterable[Rich | Span | str], separator: Rich | str = "") -> Rich:
    out: list[Span] = []
    sep = as_rich(separator).spans
    for n, part in enumerate(parts):
        if n and sep:
            out.extend(sep)
        out.extend(as_rich(part).spans)
    return Rich(tuple(out))


def lines(rows: Sequence[Rich | str]) -> Rich:
    return join(rows, "\n")


_TEMPLATE = re.compile(r"\{(\w+)\}|\*([^*\n]+)\*|`([^`\n]+)`")
_FIELD = re.compile(r"\{(\w+)\}")


def fmt(template: str, **values: Rich | Span | str | int) -> Rich:
    """The template with each {name} replaced by its value (text or a part): *strong* and
    `code` in the template itself are marked; values are never read as markup."""
    out: list[Span] = []
    pos = 0
    for match in _TEMPLATE.finditer(template):
        if match.start() > pos:
            out.append(Span(Kind.TEXT, template[pos:match.start()]))
        if match[1] is not None:
            out.extend(as_rich(values[match[1]]).spans)
        else:
            inner = _FIELD.sub(lambda m: str(as_rich(values[m[1]])), match[2] or match[3])
            out.append(Span(Kind.STRONG if match[2] is not None else Kind.CODE, inner))
        pos = match.end()
    if pos < len(template):
        out.append(Span(Kind.TEXT, template[pos:]))
    return Rich(tuple(s for s in out if s.text or s.url))
