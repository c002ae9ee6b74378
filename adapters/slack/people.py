"""Slack users as Baton's people, and Slack's mentions in command text as people and teams.

baton.yaml may name each person's Slack id (`slack: U…`); otherwise a Slack user is matched
by the e-mail users.info gives, and in an open directory (no people listed) every Slack user
takes part under their own id. Names, e-mail and time zones come from users.info, looked up
once and cached. The core's Directory is synchronous, so the adapter calls `learn` for the
users a request names before handing the request to the core.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigDirectory
from bot.items import Kind, Priority
from bot.people import DigestTimes, Directory, Person, SlaTargets, Team, TeamClock

log = logging.getLogger(__name__)

SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|@?([^>]*))?>")
_HANDOFF_TO_GROUP = re.compile(r"\s*handoff\s+(<!subteam\^[^>]+>)", re.IGNORECASE)
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
LOOKUP_SECONDS = 2.0  # a slow users.info must not hold a slash command past Slack's 3 s


@dataclass(frozen=True)
class Profile:
    """What users.info says about a Slack user."""

    id: str
    name: str
    email: str = ""
    time_zone: str = ""
    bot: bool = False

    @classmethod
    def from_api(cls, user: dict[str, Any]) -> Profile:
        profile = user.get("profile") or {}
        name = (profile.get("display_name") or profile.get("real_name")
                or user.get("real_name") or user.get("name") or user["id"])
        zone = user.get("tz") or ""
        try:
            if zone:
                ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ""
        return cls(str(user["id"]), str(name), str(profile.get("email") or ""), zone,
                   bool(user.get("is_bot")))


class SlackDirectory(Directory):
    """baton.yaml's directory, seen from Slack: Slack ids find people, users.info fills in."""

    def __init__(self, base: ConfigDirectory, ttl: float = 3600.0) -> None:
        self.base = base
        self.ttl = ttl
        self._profiles: dict[str, tuple[Profile, float]] = {}
        self._pending: dict[str, asyncio.Future[Profile | None]] = {}
        self._slack_of: dict[str, str] = {}  # handle -> Slack id, learned from e-mail matches

    # --- learning -----------------------------------------------------------------------

    def known(self, user: str) -> bool:
        found = self._profiles.get(user)
        return found is not None and found[1] > time.monotonic()

    async def learn(self, client: AsyncWebClient, users: Iterable[str]) -> None:
        """Look up the users not yet cached (users.info), at most LOOKUP_SECONDS in all."""
        wanted = {u for u in users if SLACK_ID.fullmatch(u) and not self.known(u)}
        if not wanted:
            return
        try:
            await asyncio.wait_for(asyncio.gather(*(self._lookup(client, u) for u in wanted)),
                                   LOOKUP_SECONDS)
        except TimeoutError:
            log.warning("users.info took longer than %.1fs; going on without it",
                        LOOKUP_SECONDS)

    async def _lookup(self, client: AsyncWebClient, user: str) -> Profile | None:
        pending = self._pending.get(user)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Profile | None] = asyncio.get_running_loop().create_future()
        self._pending[user] = future
        profile: Profile | None = None
        try:
            response = await client.users_info(user=user)
            profile = Profile.from_api(response["user"])
            self.remember(profile)
        except (TimeoutError, SlackApiError, SlackClientError, KeyError, TypeError, OSError) as exc:
            log.warning("users.info for %s failed: %s", user, type(exc).__name__)
        finally:
            del self._pending[user]
            future.set_result(profile)
        return profile

    def remember(self, profile: Profile) -> None:
        self._profiles[profile.id] = (profile, time.monotonic() + self.ttl)
        if profile.email and (found := self.base.person(profile.email)) is not None \
                and found.id != profile.id:
            self._slack_of[found.id] = profile.id

    def profile(self, user: str) -> Profile | None:
        found = self._profiles.get(user)
        return found[0] if found else None

    # --- the Directory port -------------------------------------------------------------

    def person(self, handle: str) -> Person | None:
        key = handle.strip().removeprefix("@")
        if not SLACK_ID.fullmatch(key):
            return self.base.person(key)
        profile = self.profile(key)
        found = self.base.person(key)
        if found is None and profile and profile.email:
            found = self.base.person(profile.email)
        if found is None or profile is None:
            return found
        if found.id == key:  # an open directory: the Slack user is the person
            return Person(key, profile.name, profile.time_zone or found.time_zone,
                          profile.email)
        entry = self.base.config.people.get(found.id)
        if profile.time_zone and entry is not None and entry.time_zone is None:
            return replace(found, time_zone=profile.time_zone)
        return found

    def slack_id(self, person: str) -> str | None:
        """The Slack user id to mention or message for a person id, if there is one."""
        if SLACK_ID.fullmatch(person):
            return person
        entry = self.base.config.people.get(person.lower())
        if entry is not None and entry.slack:
            return entry.slack
        return self._slack_of.get(person.lower())

    def name_of(self, person: str) -> str:
        found = self.person(person)
        return found.name if found else person

    def team(self, name: str) -> Team | None:
        return self.base.team(name)

    def teams(self) -> list[Team]:
        return self.base.teams()

    def default_team(self) -> str:
        return self.base.default_team()

    def is_admin(self, person: str) -> bool:
        found = self.person(person)
        return found is not None and self.base.is_admin(found.id)

    def sla(self, team: str, kind: Kind, priority: Priority) -> SlaTargets:
        return self.base.sla(team, kind, priority)

    def teams_of(self, person: str) -> list[Team]:
        found = self.person(person)
        return self.base.teams_of(found.id if found else person)

    def clock(self, team: str) -> TeamClock:
        return self.base.clock(team)

    def digest_times(self, team: str) -> DigestTimes:
        return self.base.digest_times(team)

    def team_of_channel(self, channel: str, name: str = "") -> Team | None:
        """The team whose Slack channel is this one (by id, or by #name)."""
        wanted = {channel, f"#{name}", name} - {"", "#"}
        return next((t for t in self.teams() if t.channel in wanted), None)


class MentionError(ValueError):
    """A mention in command text that cannot stand where it is."""


class Mentions:
    """Rewrites Slack's markup in command text into what the grammar reads: user groups into
    a team (`#team`, when the group's handle names one) or their members, channels into the
    team whose channel it is."""

    def __init__(self, directory: SlackDirectory, ttl: float = 600.0) -> None:
        self.directory = directory
        self.ttl = ttl
        self._groups: dict[str, tuple[list[str], float]] = {}

    @staticmethod
    def users_in(text: str) -> set[str]:
        return set(_USER_MENTION.findall(text))

    async def rewrite(self, client: AsyncWebClient, text: str) -> str:
        """`text` with groups and channels resolved; MentionError if one cannot be."""
        if (head := _HANDOFF_TO_GROUP.match(text)) is not None:
            receiver = await self._groups_in(client, head[1])
            if receiver.count("<@") > 1:
                raise MentionError(f"a handoff goes to one person or one team, and that group "
                                   f"has {receiver.count('<@')} members")
            text = text[:head.start(1)] + receiver + text[head.end(1):]
        text = await self._groups_in(client, text)
        return _CHANNEL.sub(self._channel, text)

    def _channel(self, match: re.Match[str]) -> str:
        team = self.directory.team_of_channel(match[1], match[2] or "")
        if team is not None:
            return f"#{team.name}"
        if match[2]:
            return f"#{match[2]}"
        raise MentionError(f"<#{match[1]}> is not a team's channel; name the team as #team")

    async def _groups_in(self, client: AsyncWebClient, text: str) -> str:
        out: list[str] = []
        pos = 0
        for match in _GROUP.finditer(text):
            out.append(text[pos:match.start()])
            handle = (match[2] or "").strip()
            team = self.directory.team(handle) if handle else None
            if team is not None:
                out.append(f"#{team.name}")
            else:
                members = await self._members(client, match[1])
                if not members:
                    raise MentionError(f"the group @{handle or match[1]} has no members "
                                       f"Baton can see")
                out.append(" ".join(f"<@{m}>" for m in members))
            pos = match.end()
        out.append(text[pos:])
        return "".join(out)

    async def _members(self, client: AsyncWebClient, group: str) -> list[str]:
        cached = self._groups.get(group)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        try:
            response = await asyncio.wait_for(client.usergroups_users_list(usergroup=group),
                                               LOOKUP_SECONDS)
            members = [str(u) for u in response.get("users") or []]
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
            log.warning("usergroups.users.list for %s failed: %s", group, type(exc).__name__)
            raise MentionError("Baton could not read that user group's members "
                               "(the app needs usergroups:read)") from None
        self._groups[group] = (members, time.monotonic() + self.ttl)
        return members
