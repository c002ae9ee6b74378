"""Items as one person on Teams sees them (their own buttons), and where Baton posted them.

Each read is one short unit of work of its own, never held across a call to Teams.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.cards import Card
from bot.context import build_actor
from bot.items import Item
from bot.people import Directory
from bot.ports import CardPost, Clock, UnitOfWorkFactory
from bot.presenters import card_for
from bot.rules import Verb, allowed, state_allows, who_may_act

SURFACE = "teams"


class Views:
    def __init__(self, uow: UnitOfWorkFactory, directory: Directory, clock: Clock) -> None:
        self.uow = uow
        self.directory = directory
        self.clock = clock

    async def item(self, workspace: str, number: int) -> Item | None:
        async with self.uow() as uow:
            return await uow.items.get(workspace, number)

    async def card(self, workspace: str, number: int,
                   viewer: str | None) -> tuple[Item, Card] | None:
        """The item and its card with the buttons `viewer` may press (every button its state
        allows when no one in particular views it); None if there is no such item."""
        async with self.uow() as uow:
            item = await uow.items.get(workspace, number)
            if item is None:
                return None
            if viewer is None:
                verbs = list(state_allows(item))
            else:
                actor = await build_actor(uow, self.directory, workspace, viewer,
                                          self.clock.now())
                verbs = allowed(item, actor)
        return item, self.render(item, verbs, viewer)

    def render(self, item: Item, verbs: list[Verb], viewer: str | None) -> Card:
        team = self.directory.team(item.team)
        team_zone = ZoneInfo(team.time_zone) if team else ZoneInfo("UTC")
        person = self.directory.person(viewer) if viewer else None
        return card_for(item, verbs, person.zone if person else team_zone, team_zone)

    async def posts(self, workspace: str, number: int) -> list[CardPost]:
        async with self.uow() as uow:
            return await uow.posts.of_item(workspace, number, SURFACE)

    async def record(self, post: CardPost) -> None:
        async with self.uow() as uow:
            await uow.posts.add(post)
            await uow.commit()

    def people_with_buttons(self, item: Item) -> list[str]:
        """Who sees their own buttons on a shared copy: who may act on it, as the rules say."""
        team = self.directory.team(item.team)
        return who_may_act(item, team.lead if team else None, team.members if team else ())
