"""The core's rich text as Teams shows it, and Teams' text back as what was typed.

Teams renders a subset of markdown in messages and in Adaptive Card text, and HTML entities in
both. Only the core's own parts become markup: a person with a Teams account is mentioned as
`<at>Name</at>` with a mention entity (that is what pings them), a link the core made is a
link, *strong* is bold. Every literal part (anything a person typed) is escaped: entities for
`& < >` (so no `<at>` or HTML can be smuggled in) and a backslash before the characters
markdown reads as formatting.

What Teams sends is HTML-ish: mentions as `<at>Name</at>` with their entities, other markup as
tags, and what the person typed with `& < >` as entities. `read` turns it back into plain
text, keeping each mention as a part of its own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.rich import Kind, Rich

#: A person's Teams account id (their AAD object id) when they have one.
TeamsIdOf = Callable[[str], str | None]
NameOf = Callable[[str], str]

_INLINE = re.compile(r"([\\`*_~\[\]])")
_LINE_START = re.compile(r"^([ \t]*)(?:([+\-])(?=\s)|(\d+)\.(?=\s))", re.MULTILINE)
_SAFE_URL = re.compile(r"(?:https?://|mailto:)[^\s<>()\[\]]+")
#: A paragraph break: what Teams shows as a new line in markdown messages and TextBlocks.
LINE_BREAK = "\n\n"


def escape(text: str) -> str:
    """Literal text, shown as typed: entities for `& < >`, a backslash before inline markdown
    (emphasis, code, links) and before what would start a list at the start of a line."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m[1] + ("\\" + m[2] if m[2] else m[3] + "\\."), text)


@dataclass
class Rendered:
    """Text in Teams markdown, and the mention entities its `<at>` parts need."""

    text: str
    mentions: list[dict[str, Any]] = field(default_factory=list)

    def entities(self) -> list[dict[str, Any]]:
        return list(self.mentions)


@dataclass(frozen=True)
class Renderer:
    """Renders the core's rich text for the people of one deployment."""

    teams_id: TeamsIdOf
    name_of: NameOf

    def render(self, message: Rich, mentions: list[dict[str, Any]] | None = None) -> Rendered:
        """The whole text, its lines as paragraphs; mentions added to `mentions` if given."""
        found = mentions if mentions is not None else []
        text = LINE_BREAK.join(self._line(line, found) for line in message.lines())
        return Rendered(text, found)

    def lines(self, message: Rich, mentions: list[dict[str, Any]]) -> list[str]:
        """Each line of the text on its own (an Adaptive Card shows one TextBlock each)."""
        return [self._line(line, mentions) for line in message.lines()]

    def inline(self, message: Rich, mentions: list[dict[str, Any]]) -> str:
        """The text on one line (a fact's value): its line breaks as spaces."""
        return " ".join(self._line(line, mentions) for line in message.lines())

    def plain(self, message: Rich) -> str:
        """The text without markup (a notification's preview, a card's fallback): people as
        @Name, items as #42."""
        return "".join(f"@{self.name_of(s.text)}" if s.kind is Kind.PERSON else s.plain()
                       for s in message.spans)

    def runs(self, line: Rich) -> list[tuple[str, dict[str, Any]]] | None:
        """One line as plain text runs (text, style) for an Adaptive Card's TextRuns, which no
        client reads as markdown; None when the line holds a part that must render as markup
        (a mention of someone with a Teams account, a link)."""
        out: list[tuple[str, dict[str, Any]]] = []
        for span in line.spans:
            match span.kind:
                case Kind.PERSON:
                    if self.teams_id(span.text):
                        return None
                    out.append((f"@{self.name_of(span.text)}", {}))
                case Kind.LINK:
                    if _SAFE_URL.fullmatch(span.url):
                        return None
                    out.append((span.plain(), {}))
                case Kind.STRONG:
                    out.append((span.text, {"weight": "Bolder"} if span.text.strip() else {}))
                case Kind.CODE:
                    out.append((span.text.replace("\n", " "), {"fontType": "Monospace"}))
                case Kind.ITEM | Kind.TEAM:
                    out.append((f"#{span.text}", {}))
                case _:
                    out.append((span.text, {}))
        merged: list[tuple[str, dict[str, Any]]] = []
        for text, style in out:
            if merged and merged[-1][1] == style:
                merged[-1] = (merged[-1][0] + text, style)
            elif text:
                merged.append((text, style))
        return merged

    def _line(self, line: Rich, mentions: list[dict[str, Any]]) -> str:
        out: list[str] = []
        for span in line.spans:
            match span.kind:
                case Kind.TEXT:
                    out.append(escape(span.text))
                case Kind.STRONG:
                    out.append(f"**{escape(span.text)}**" if span.text.strip() else
                               escape(span.text))
                case Kind.CODE:
                    out.append("`" + span.text.replace("`", "'").replace("\n", " ") + "`")
                case Kind.PERSON:
                    out.append(self._person(span.text, mentions))
                case Kind.ITEM | Kind.TEAM:
                    out.append(escape(f"#{span.text}"))
                case Kind.LINK:
                    if _SAFE_URL.fullmatch(span.url):
                        label = escape(span.text or span.url)
                        out.append(f"[{label}]({span.url})")
                    else:
                        out.append(escape(span.plain()))
        return "".join(out)

    def _person(self, person: str, mentions: list[dict[str, Any]]) -> str:
        name = self.name_of(person)
        account = self.teams_id(person)
        if not account:
            return escape(f"@{name}")
        tag = f"<at>{html.escape(name, quote=False)}</at>"
        if not any(m["text"] == tag and m["mentioned"]["id"] == account for m in mentions):
            mentions.append({"type": "mention", "text": tag,
                             "mentioned": {"id": account, "name": name}})
        return tag


# --- reading what Teams sends ------------------------------------------------------------

_MENTION = re.compile(r"<at(?:\s[^<>]*)?>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>|</(?:p|div|li)>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")


@dataclass(frozen=True)
class Mentioned:
    """A mention in what Teams sent: the account it names (a user's `29:` id or the bot's
    `28:` id), the name shown, and the AAD object id when Teams gives it."""

    id: str
    name: str
    aad_object_id: str = ""


Piece = str | Mentioned


def read(text: str, entities: Iterable[Mapping[str, Any]]) -> list[Piece]:
    """Teams' text as literal pieces and mentions, in order. Each `<at>…</at>` is matched to
    its mention entity (by the entity's text, else by the name); one with no entity stays as
    the name typed."""
    pending = [e for e in entities if str(e.get("type", "")).lower() == "mention"
               and isinstance(e.get("mentioned"), Mapping)]
    pieces: list[Piece] = []
    pos = 0
    for match in _MENTION.finditer(text):
        pieces.append(_plain(text[pos:match.start()]))
        name = _plain(match[1])
        entity = _take(pending, match[0], name)
        if entity is None:
            pieces.append(name)
        else:
            mentioned = entity["mentioned"]
            pieces.append(Mentioned(str(mentioned.get("id") or ""),
                                    str(mentioned.get("name") or name),
                                    str(mentioned.get("aadObjectId") or "")))
        pos = match.end()
    pieces.append(_plain(text[pos:]))
    return [p for p in pieces if p != ""]


def _take(pending: list[Mapping[str, Any]], tag: str,
          name: str) -> Mapping[str, Any] | None:
    for by_tag in (True, False):
        for n, entity in enumerate(pending):
            if (str(entity.get("text", "")) == tag if by_tag
                    else _plain(str(entity["mentioned"].get("name", ""))) == name):
                return pending.pop(n)
    return None


def _plain(markup: str) -> str:
    """HTML-ish text as what was typed: breaks as new lines, other tags dropped, entities
    decoded, non-breaking spaces as spaces."""
    text = _TAG.sub("", _BREAK.sub("\n", markup))
    return html.unescape(text).replace("\xa0", " ")
