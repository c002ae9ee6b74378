"""Teams messages from what Baton says: its rich text in markdown with the mentions that ping,
its cards as Adaptive Card attachments, and long text over several messages (saying so), each
within Teams' limits (about 28 KB a card, 100 KB a message)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount, Mention

from adapters.teams import cards
from adapters.teams.clicks import Signer
from adapters.teams.markdown import LINE_BREAK, Renderer
from adapters.teams.people import TeamsPeople
from bot.cards import Card
from bot.rich import Rich

Json = dict[str, Any]

#: Characters of markdown in one message; longer text goes on in the next message.
MESSAGE_CHARS = 20_000
#: What one message may weigh, cards included (Teams refuses about 100 KB).
MESSAGE_BYTES = 90_000


class Composer:
    """Renders for the people of one deployment, and signs the cards' buttons."""

    def __init__(self, people: TeamsPeople, signer: Signer) -> None:
        self.people = people
        self.signer = signer
        self.renderer = Renderer(self.mention_id, people.name_of)

    def mention_id(self, person: str) -> str | None:
        """How a mention names a person: their MRI when Baton has met it, else their AAD
        object id (Teams takes either); None for someone with no Teams account."""
        aad = self.people.teams_id(person)
        if not aad:
            return None
        return self.people.mri(aad) or aad

    def card(self, card: Card, *, buttons: bool = True, refresh_for: Sequence[str] | None = None,
             error: Rich | None = None) -> Json:
        return cards.item_card(card, self.renderer, self.signer, buttons=buttons,
                               refresh_for=refresh_for, error=error)

    def text_card(self, text: Rich, *, image: str = "", image_text: str = "") -> Json:
        """The text as an Adaptive Card (one TextBlock a line), with an image under it."""
        mentions: list[Json] = []
        lines = self.renderer.lines(text, mentions)
        return cards.message_card(lines, mentions, image=image, image_text=image_text)

    def messages(self, text: Rich, attachments: Sequence[Json] = ()) -> list[Activity]:
        """The text as one message or several (at line ends), the cards on the last."""
        pieces: list[tuple[str, list[Json]]] = []
        current: list[str] = []
        mentions: list[Json] = []
        size = 0
        for line in text.lines():
            line_mentions: list[Json] = []
            rendered = self.renderer.render(line, line_mentions).text
            if current and size + len(rendered) + len(LINE_BREAK) > MESSAGE_CHARS:
                pieces.append((LINE_BREAK.join(current), mentions))
                current, mentions, size = [], [], 0
            while len(rendered) > MESSAGE_CHARS:  # one line longer than a message: cut, said
                pieces.append((rendered[:MESSAGE_CHARS - 20].rstrip() + " … (continued)",
                               line_mentions))
                rendered = "… " + rendered[MESSAGE_CHARS - 20:]
            current.append(rendered)
            mentions += [m for m in line_mentions if m not in mentions]
            size += len(rendered) + len(LINE_BREAK)
        if current or not pieces:
            pieces.append((LINE_BREAK.join(current).strip(), mentions))
        activities = [self._activity(body, found) for body, found in pieces]
        last = activities[-1]
        for card in attachments:
            if last.attachments and _weight(last) + cards.size(card) > MESSAGE_BYTES:
                last = self._activity("", [])
                activities.append(last)
            last.attachments = [*(last.attachments or []), Attachment(
                content_type=cards.CONTENT_TYPE, content=card)]
        return [a for a in activities if a.text or a.attachments]

    def _activity(self, text: str, mentions: list[Json]) -> Activity:
        activity = Activity(type=ActivityTypes.message, text=text or None,
                            text_format="markdown" if text else None)
        if mentions:
            activity.entities = [Mention(
                type="mention", text=m["text"],
                mentioned=ChannelAccount(id=m["mentioned"]["id"], name=m["mentioned"]["name"]))
                for m in mentions]
        return activity


def _weight(activity: Activity) -> int:
    return len((activity.text or "").encode()) + sum(
        len(json.dumps(a.content, ensure_ascii=False).encode())
        for a in activity.attachments or [])
