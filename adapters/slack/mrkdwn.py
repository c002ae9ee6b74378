"""The core's text as Slack mrkdwn and back: escaping, mentions and splitting at Slack's limits.

The core writes mentions as `<@person>` where `person` is whatever id the directory uses (a
Slack user id, or a baton.yaml handle); Slack needs `<@U…>`. Everything a user typed is
escaped, so a title can neither ping `@channel` nor smuggle in a link that was not sent as one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

SlackIdOf = Callable[[str], str | None]

# Markup kept as markup: user mentions, channel links and plain links. Anything else in angle
# brackets (`<!channel>`, `<!subteam^…>`, stray `<`) is escaped and shows as typed.
_MARKUP = re.compile(
    r"<(?P<target>@[A-Za-z0-9._\-']+|#[A-Z0-9]+|(?:https?|mailto):[^\s<>|]+)"
    r"(?:\|(?P<label>[^<>]*))?>"
)


def escape(text: str) -> str:
    """Slack's three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Text as Slack sends it (`&lt;` for `<`) back to what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(text: str, slack_id: SlackIdOf) -> str:
    """Core text as mrkdwn: mentions of people with a Slack id ping them; the rest is escaped."""
    out: list[str] = []
    pos = 0
    for match in _MARKUP.finditer(text):
        out.append(escape(text[pos:match.start()]))
        target, label = match["target"], match["label"]
        if target.startswith("@"):
            user = slack_id(target[1:])
            out.append(f"<@{user}>" if user else escape(f"@{label or target[1:]}"))
        elif label:
            out.append(f"<{target}|{escape(label)}>")
        else:
            out.append(f"<{target}>")
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def plain(text: str, name_of: Callable[[str], str]) -> str:
    """Core text for plain_text fields (headers, modal titles): mentions become @names."""
    return _MARKUP.sub(lambda m: "@" + name_of(m["target"][1:]) if m["target"].startswith("@")
                       else (m["label"] or m["target"]), text)


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
