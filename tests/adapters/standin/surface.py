"""A second chat surface, defined here in the tests and added to `baton serve` without any
change to bot/, store/ or jobs/: people post command lines to /standin/say, and Baton's
messages land in an inbox the test reads. It stands in for Teams while the core is proven
to serve several surfaces at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.http.metrics import Metrics
from baton.app import App
from baton.running import Running
from bot.accounts import recognise
from bot.cards import Card
from bot.context import Request
from bot.delivery import NotHere, Transport
from bot.messages import Audience, Outgoing
from bot.people import Identity
from bot.ports import CardPost, UnitOfWorkFactory

SURFACE = "standin"


@dataclass
class Posted:
    """What the stand-in platform shows: where, what (plain text) and which card."""

    where: str
    text: str
    card: int | None = None
    kind: str = "post"  # post, update, reply


@dataclass
class Inbox:
    posts: list[Posted] = field(default_factory=list)

    def to(self, where: str) -> list[Posted]:
        return [p for p in self.posts if p.where == where]


class StandinTransport(Transport):
    surface = SURFACE

    def __init__(self, app: App, inbox: Inbox) -> None:
        self.directory = app.directory
        self.uow: UnitOfWorkFactory = app.database.unit_of_work
        self.inbox = inbox

    async def deliver(self, message: Outgoing) -> None:
        text = str(message.text)
        match message.audience:
            case Audience.PERSON:
                account = self.directory.account(message.to, SURFACE)
                if account is None:
                    raise NotHere(f"{message.to} is not on the stand-in")
                self.inbox.posts.append(Posted(f"dm:{account}", text, message.item))
                if message.card is not None and message.item is not None:
                    await self._posted(message, f"dm:{account}")
            case Audience.TEAM | Audience.CARD:
                team = self.directory.team(message.to)
                channel = team.channel(SURFACE) if team else ""
                if not channel:
                    raise NotHere(f"#{message.to} has no stand-in channel")
                self.inbox.posts.append(Posted(channel, text, message.item))
                if message.audience is Audience.CARD and message.item is not None:
                    await self._posted(message, channel)
            case Audience.CARD_UPDATE | Audience.THREAD:
                assert message.item is not None
                async with self.uow() as uow:
                    posts = await uow.posts.of_item(message.workspace, message.item, SURFACE)
                if not posts:
                    raise NotHere(f"no card of #{message.item} on the stand-in")
                kind = "update" if message.audience is Audience.CARD_UPDATE else "reply"
                for post in posts:
                    self.inbox.posts.append(Posted(post.channel, text, message.item, kind))


    async def _posted(self, message: Outgoing, where: str) -> None:
        """Remember the copy of the item's card posted there, to update it later."""
        assert message.item is not None
        async with self.uow() as uow:
            await uow.posts.add(CardPost(message.workspace, message.item, SURFACE, where,
                                         str(len(self.inbox.posts))))
            await uow.commit()


def card_json(card: Card) -> dict[str, Any]:
    return {"heading": card.heading,
            "fields": {label: str(value) for label, value in card.fields},
            "actions": [a.verb for a in card.actions]}


def attach_with(inbox: Inbox) -> Any:
    """The stand-in's wiring for `baton serve` (the shape of baton.surfaces.Wiring)."""

    async def attach(app: App, web_app: web.Application, metrics: Metrics) -> Running:
        async def say(request: web.Request) -> web.Response:
            body = await request.json()
            person = await recognise(app.directory, app.accounts, Identity(
                SURFACE, body["user"], body.get("name", ""), body.get("email", "")))
            if person is None:
                return web.json_response({"ok": False, "text": "unknown person"})
            reply = await app.runner.text(Request(app.workspace, person.id, SURFACE),
                                          body["text"])
            return web.json_response({"ok": reply.ok, "text": str(reply.text),
                                      "cards": [card_json(c) for c in reply.cards]})

        web_app.router.add_post("/standin/say", say)

        async def close() -> None:
            return None

        return Running("the stand-in (/standin/say)", StandinTransport(app, inbox), close)

    return attach
