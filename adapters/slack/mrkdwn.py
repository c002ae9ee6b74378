"""The core's rich text as Slack mrkdwn, Slack's text back as what was typed, and splitting at
Slack's limits.

Only the core's own parts become markup: a person with a Slack id is pinged as `<@U…>`, a
link the core made is a link. Every literal part (anything a person typed) is escaped, so a
title can neither ping `@channel` nor smuggle in a link that was not sent as one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.rich import Kind, Rich

SlackIdOf = Callable[[str], str | None]
NameOf = Callable[[str], str]

# Slack's markup in the text it sends (and in what we render): mentions, channel and group
# references, links. Spans a split must not cut.
_MARKUP = re.compile(r"<[@#!][^<>]*>|<(?:https?|mailto):[^\s<>]+>")


def escape(text: str) -> str:
    """Slack's three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Text as Slack sends it (`&lt;` for `<`) back to what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(message: Rich, slack_id: SlackIdOf, name_of: NameOf) -> str:
    """Rich text as mrkdwn: people with a Slack id are pinged; every literal part is escaped."""
    out: list[str] = []
    for span in message.spans:
        match span.kind:
            case Kind.TEXT:
                out.append(escape(span.text))
            case Kind.STRONG:
                out.append(f"*{escape(span.text)}*")
            case Kind.CODE:
                out.append("`" + escape(span.text.replace("`", "'")) + "`")
            case Kind.PERSON:
                user = slack_id(span.text)
                out.append(f"<@{user}>" if user else escape(f"@{name_of(span.text)}"))
            case Kind.ITEM | Kind.TEAM:
                out.append(escape(f"#{span.text}"))
            case Kind.LINK:
                if span.url.startswith(("https://", "http://", "mailto:")) and \
                        not any(c in span.url for c in "<>| "):
                    label = span.text or span.url
                    out.append(f"<{span.url}|{escape(label.replace('|', '/'))}>")
                else:
                    out.append(escape(span.plain()))
    return "".join(out)


def plain(message: Rich, name_of: NameOf) -> str:
    """Rich text for plain_text fields (headers, modal titles): people as @names."""
    return "".join(f"@{name_of(s.text)}" if s.kind is Kind.PERSON else s.plain()
                   for s in message.spans)


def _protected(text: str) -> list[tuple[int, int]]:
    """Spans a split must not cut: markup and entities."""
    spans = [(m.start(), m.end()) for m in _MARKUP.finditer(text)]
    spans += [(m.start(), m.end()) for m in re.finditer(r"&(?:amp|lt|gt);", text)]
    return spans


def _cut_point(text: str, limit: int) -> int:
    """Where to cut `text` to at most `limit` characters: at a space if one is near, never
    inside markup or an entity."""
    spans = _protected(text)

    def inside(i: int) -> bool:
        return any(start < i < end for start, end in spans)

    space = text.rfind(" ", limit // 2, limit)  # the space stays with the first piece
    if space > 0 and not inside(space):
        return space + 1
    cut = limit
    while cut > 1 and inside(cut):
        cut -= 1
    return cut


def split(text: str, limit: int) -> list[str]:
    """Text in pieces of at most `limit` characters, at line ends where possible; nothing lost."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line) > limit:
            cut = _cut_point(line, limit)
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def clip(text: str, limit: int) -> str:
    """At most `limit` characters; a shortened text ends with an ellipsis that says so."""
    if len(text) <= limit:
        return text
    return text[: _cut_point(text, limit - 1)].rstrip() + "…"
