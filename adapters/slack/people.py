"""Slack users as Baton's people, and Slack's markup in command text as Baton's own references.

A Slack user is matched to a person once (bot.accounts.recognise): by the Slack id baton.yaml
gives (`slack: U…`), else by the e-mail users.info gives, else, in an open directory (no people
listed), as a person of their own. Names, e-mail and time zones come from users.info, looked up
once per user and cached. The core's Directory is synchronous, so a request's users are
recognised before the request goes to the core.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import mrkdwn
from bot.accounts import recognise
from bot.people import Directory, Identity, Team
from bot.ports import Accounts

log = logging.getLogger(__name__)

SURFACE = "slack"
SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,}")
LOOKUP_SECONDS = 2.0  # a slow users.info must not hold a slash command past Slack's 3 s
# Slack's markup in the text it sends: what a person typed comes escaped (&lt; &gt; &amp;), so
# whatever stands in angle brackets was made by Slack: a mention, a channel, a group, a link.
_MARKUP = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"@([UW][A-Z0-9]+)(?:\|[^>]*)?")
_GROUP = re.compile(r"!subteam\^([A-Z0-9]+)(?:\|@?(.*))?")
_CHANNEL = re.compile(r"#([A-Z0-9]+)(?:\|(.*))?")
_LINK = re.compile(r"((?:https?|mailto):[^|\s]+)(?:\|(.*))?", re.DOTALL)
_HANDOFF_TO_GROUP = re.compile(r"\s*handoff\s+<!subteam\^", re.IGNORECASE)


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

    def identity(self) -> Identity:
        return Identity(SURFACE, self.id, self.name, self.email, self.time_zone)


class SlackPeople:
    """Who Slack users are to Baton, and who people are on Slack."""

    def __init__(self, directory: Directory, accounts: Accounts, ttl: float = 3600.0) -> None:
        self.directory = directory
        self.accounts = accounts
        self.ttl = ttl
        self._profiles: dict[str, tuple[Profile, float]] = {}
        self._pending: dict[str, asyncio.Future[Profile | None]] = {}

    def known(self, user: str) -> bool:
        found = self._profiles.get(user)
        return found is not None and found[1] > time.monotonic()

    async def learn(self, client: AsyncWebClient, users: Iterable[str]) -> None:
        """Look up the users not yet cached (users.info, at most LOOKUP_SECONDS in all) and
        match each to a person."""
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
            await self.remember(profile)
        except (TimeoutError, SlackApiError, SlackClientError, KeyError, TypeError, OSError) as exc:
            log.warning("users.info for %s failed: %s", user, type(exc).__name__)
        finally:
            del self._pending[user]
            future.set_result(profile)
        return profile

    async def remember(self, profile: Profile) -> None:
        self._profiles[profile.id] = (profile, time.monotonic() + self.ttl)
        await recognise(self.directory, self.accounts, profile.identity())

    def slack_id(self, person: str) -> str | None:
        """The Slack user id to mention or message for a person id, if there is one."""
        if SLACK_ID.fullmatch(person) and self.directory.person(person) is None:
            return person
        return self.directory.account(person, SURFACE)

    def name_of(self, person: str) -> str:
        found = self.directory.person(person)
        return found.name if found else person

    def person_id(self, user: str) -> str:
        """The Baton id of a Slack user (their Slack id when Baton knows no one by it: the
        core then says it does not know them)."""
        found = self.directory.person(user)
        return found.id if found else user

    def team_of_channel(self, channel: str, name: str = "") -> Team | None:
        """The team whose Slack channel is this one (by id, or by #name)."""
        wanted = {channel, f"#{name}", name} - {"", "#"}
        return next((t for t in self.directory.teams() if t.channel(SURFACE) in wanted), None)


class MentionError(ValueError):
    """A mention in command text that cannot stand where it is."""


class SlackText:
    """Slack's text as Baton reads it: people mentioned as `@person`, user groups as a team
    (`#team`, when the group's handle names one) or their members, channels as the team whose
    channel it is, links as their address, and everything else as typed (entities decoded)."""

    def __init__(self, people: SlackPeople, ttl: float = 600.0) -> None:
        self.people = people
        self.ttl = ttl
        self._groups: dict[str, tuple[list[str], float]] = {}

    @staticmethod
    def users_in(text: str) -> set[str]:
        return {m[1] for m in (_USER.fullmatch(t) for t in _MARKUP.findall(text)) if m}

    async def read(self, client: AsyncWebClient, text: str, *, prose: bool = False) -> str:
        """`text` as Baton's command text (people as `@id`), or as prose a person reads
        (people as `@Name`: a message tracked as an item); MentionError if a reference
        cannot stand."""
        await self.people.learn(client, self.users_in(text))
        out: list[str] = []
        pos = 0
        receiver = _HANDOFF_TO_GROUP.match(text) is not None
        for match in _MARKUP.finditer(text):
            out.append(mrkdwn.unescape(text[pos:match.start()]))
            out.append(await self._reference(client, match[1], receiver and not pos, prose))
            pos = match.end()
        out.append(mrkdwn.unescape(text[pos:]))
        return "".join(out)

    async def _reference(self, client: AsyncWebClient, inner: str, receiver: bool,
                         prose: bool) -> str:
        if (user := _USER.fullmatch(inner)) is not None:
            person = self.people.person_id(user[1])
            return f"@{self.people.name_of(person) if prose else person}"
        if (group := _GROUP.fullmatch(inner)) is not None:
            return await self._group(client, group[1], mrkdwn.unescape(group[2] or ""),
                                     receiver)
        if (channel := _CHANNEL.fullmatch(inner)) is not None:
            return self._channel(channel[1], mrkdwn.unescape(channel[2] or ""))
        if (link := _LINK.fullmatch(inner)) is not None:
            url, label = mrkdwn.unescape(link[1]), mrkdwn.unescape(link[2] or "")
            shown = url.removeprefix("mailto:")
            return shown if not label or label in (url, shown) else f"{label} ({shown})"
        if inner.startswith("!"):  # @here, @channel, a date: shown, never a ping
            name, _, label = inner[1:].partition("|")
            return mrkdwn.unescape(label or f"@{name}")
        return mrkdwn.unescape(f"<{inner}>")

    def _channel(self, channel: str, name: str) -> str:
        team = self.people.team_of_channel(channel, name)
        if team is not None:
            return f"#{team.name}"
        if name:
            return f"#{name}"
        raise MentionError(f"<#{channel}> is not a team's channel; name the team as #team")

    async def _group(self, client: AsyncWebClient, group: str, handle: str,
                     receiver: bool) -> str:
        team = self.people.directory.team(handle) if handle else None
        if team is not None:
            return f"#{team.name}"
        members = await self._members(client, group)
        if not members:
            raise MentionError(f"the group @{handle or group} has no members Baton can see")
        if receiver and len(members) > 1:
            raise MentionError(f"a handoff goes to one person or one team, and that group "
                               f"has {len(members)} members")
        await self.people.learn(client, members)
        return " ".join(f"@{self.people.person_id(m)}" for m in members)

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
