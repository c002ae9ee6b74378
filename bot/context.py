"""What one command runs with, and the helpers handlers share to record and notify."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from bot.events import Event, EventDraft
from bot.items import Item
from bot.messages import Audience, Outgoing
from bot.people import Directory, Person
from bot.ports import UnitOfWork
from bot.presenters import card_for, change_line, not_found, note_json
from bot.rich import Rich
from bot.rules import Actor, allowed, state_allows
from bot.transitions import DomainError


@dataclass(frozen=True)
class Request:
    """Who asks, where: the workspace, the person's id and the surface they typed on."""

    workspace: str
    actor: str
    surface: str = "console"
    # The platform's id for this delivery when it may arrive again (a retry, a replay): the
    # command then acts once, the key recorded in its own transaction.
    delivery: str = ""
    # The system acting (an API client, an AI agent), on behalf of `actor` or, when `actor` is
    # the same name, in its own: recorded on the trail and on the items it raises.
    via: str = ""


def plain_json(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [plain_json(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    return value


# Bookkeeping, not facts: SLA progress (its steps are events of their own) and instants equal
# to the event's own time.
_UNAUDITED = {"updated_at", "version", "next_followup_at", "ack_stage", "resolve_stage", "stalls",
              "blocked_since", "closed_at"}


def diff(before: Item | None, after: Item) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that changed, as JSON-ready before and after dicts."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for f in fields(after):
        if f.name in _UNAUDITED:
            continue
        value = getattr(after, f.name)
        if before is None:
            if value not in (None, "", (), 0) or f.name in ("state", "kind", "number"):
                new[f.name] = plain_json(asdict(value) if f.name in ("source",) else value)
            continue
        previous = getattr(before, f.name)
        if previous != value:
            old[f.name] = plain_json(previous if f.name != "source" else asdict(previous))
            new[f.name] = plain_json(value if f.name != "source" else asdict(value))
    if "decisions" in new:  # keep the trail readable: the new decision, not the whole list
        new["decision"] = new.pop("decisions")[-1]
        old.pop("decisions", None)
    return old, new


@dataclass
class Ctx:
    uow: UnitOfWork
    request: Request
    now: datetime
    directory: Directory
    me: Person
    actor: Actor

    @property
    def workspace(self) -> str:
        return self.request.workspace

    def zone(self) -> ZoneInfo:
        return self.me.zone

    def zone_of(self, person: str | None) -> ZoneInfo:
        found = self.directory.person(person) if person else None
        return found.zone if found else ZoneInfo("UTC")

    def team_zone(self, team: str) -> ZoneInfo:
        found = self.directory.team(team)
        return ZoneInfo(found.time_zone) if found else ZoneInfo("UTC")

    async def record(self, action: str, before: Item | None, after: Item | None, *,
                     text: Rich | str = "", actor: str | None = None,
                     extra: dict[str, Any] | None = None) -> Event:
        """Append the change to the trail and queue the card refresh and thread line."""
        old, new = diff(before, after) if after is not None else ({}, {})
        if text:
            new["note"] = note_json(text)
        if self.request.via:
            new["via"] = self.request.via
        new.update(extra or {})
        event = await self.uow.events.append(EventDraft(
            self.workspace, after.number if after else None, actor or self.actor.id, action,
            self.now, self.request.surface, old, new))
        if after is not None and action != "created":
            line = change_line(action, actor or self.actor.id, after, text,
                               where=self.elsewhere(after))
            await self._send(event, Audience.CARD_UPDATE, str(after.number), line, after)
            await self._send(event, Audience.THREAD, str(after.number), line, after)
        return event

    def elsewhere(self, item: Item) -> str:
        """The surface this change is made on when the item was raised on another ('' when
        the same): its threads and DMs then say where it happened."""
        surface = self.request.surface
        return surface if surface != item.source.surface else ""

    async def post_card(self, event: Event, item: Item, line: Rich) -> None:
        """The new item's card, where it was raised and in its team's channels."""
        await self._send(event, Audience.CARD, item.team, line, item)

    async def dm(self, event: Event, person: str | None, text: Rich,
                 item: Item | None) -> None:
        """A direct message, with the card and the buttons this person may use; never to the
        person acting (they see the reply)."""
        if person and person != self.actor.id:
            await self._send(event, Audience.PERSON, person, text, item, viewer=person)

    async def tell_team(self, event: Event, team: str, text: Rich, item: Item | None) -> None:
        """A message to a team: its channel on every surface that has one."""
        await self._send(event, Audience.TEAM, team, text, item)

    async def _send(self, event: Event, audience: Audience, to: str, text: Rich,
                    item: Item | None = None, *, viewer: str | None = None) -> None:
        card = None
        if item is not None and audience is not Audience.THREAD:
            verbs = allowed(item, await self.actor_for(viewer)) if viewer else \
                list(state_allows(item))
            zone = self.zone_of(viewer) if viewer else self.team_zone(item.team)
            card = card_for(item, verbs, zone, self.team_zone(item.team)).to_dict()
        source = item.source if item is not None else None
        origin = f"{source.surface}:{source.channel}" if source and source.channel else ""
        await self.uow.outbox.put(Outgoing(
            self.workspace, audience, to, text, f"{self.workspace}:{event.seq}:{audience}:{to}",
            item.number if item else None, card, action=event.action, origin=origin,
            event=event.seq))

    async def actor_for(self, person: str) -> Actor:
        return await build_actor(self.uow, self.directory, self.workspace, person, self.now)

    async def load(self, number: int) -> Item:
        item = await self.uow.items.get(self.workspace, number)
        if item is None:
            raise DomainError(not_found(number))
        return item


async def build_actor(uow: UnitOfWork, directory: Directory, workspace: str, person: str,
                      now: datetime) -> Actor:
    """The rules' view of a person: admin, teams led and joined, people they stand in for."""
    teams = directory.teams()
    covering = await uow.absences.delegating_to(workspace, person)
    return Actor(
        id=person,
        admin=directory.is_admin(person),
        leads=frozenset(t.name for t in teams if t.lead == person),
        teams=frozenset(t.name for t in directory.teams_of(person)),
        open_teams=frozenset(t.name for t in teams if t.open),
        covers=frozenset(a.person for a in covering if a.covers(now)),
    )
