"""Teams users as Baton's people, and Teams mentions in command text as Baton's own references.

A Teams user is known by their AAD object id (`teams:` in baton.yaml) and matched to a person
once (bot.accounts.recognise): by that id, else by the e-mail or user principal name Teams
gives for them (`TeamsInfo.get_member`, looked up once per user and cached), else, in an open
directory, as a person of their own. Their time zone is the one their Teams client reports.

Teams also addresses each user by a conversation-scoped id (`29:…`, their MRI): a card's
`refresh.userIds` names people by it, so the MRIs met in activities and lookups are kept here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.teams.markdown import Mentioned
from bot.accounts import recognise
from bot.people import Directory, Identity, Person
from bot.ports import Accounts

log = logging.getLogger(__name__)

SURFACE = "teams"
LOOKUP_SECONDS = 2.0  # a slow member lookup must not hold an answer Teams waits for
PROFILE_SECONDS = 3600.0


@dataclass(frozen=True)
class Profile:
    """What Teams says about a user: their MRI (`29:…`), AAD object id, name, e-mail or UPN."""

    mri: str
    aad: str
    name: str = ""
    email: str = ""

    @classmethod
    def from_member(cls, member: Any) -> Profile:
        """From a TeamsChannelAccount (TeamsInfo.get_member)."""
        return cls(str(member.id or ""), str(member.aad_object_id or ""),
                   str(member.name or member.given_name or ""),
                   str(member.email or member.user_principal_name or ""))


#: Asks Teams about one user of a conversation (by MRI or AAD object id).
Lookup = Callable[[str], Awaitable[Profile | None]]


class MentionError(ValueError):
    """A mention in command text that names no one Baton can find."""


def zone_of(activity: Any) -> str:
    """The IANA time zone the sender's Teams client reports ('' if none or unknown)."""
    zone = getattr(activity, "local_timezone", None) or ""
    if not zone:
        for entity in getattr(activity, "entities", None) or []:
            extra = _entity(entity)
            if str(extra.get("type", "")).lower() == "clientinfo" and extra.get("timezone"):
                zone = str(extra["timezone"])
                break
    try:
        if zone:
            ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return zone


def _entity(entity: Any) -> Mapping[str, Any]:
    """An activity's entity as a plain mapping (botbuilder keeps unknown fields aside)."""
    if isinstance(entity, Mapping):
        return entity
    extra = dict(getattr(entity, "additional_properties", None) or {})
    extra.setdefault("type", getattr(entity, "type", ""))
    return extra


def entities_of(activity: Any) -> list[Mapping[str, Any]]:
    return [_entity(e) for e in getattr(activity, "entities", None) or []]


class TeamsPeople:
    """Who Teams users are to Baton, and who people are on Teams."""

    def __init__(self, directory: Directory, accounts: Accounts,
                 ttl: float = PROFILE_SECONDS) -> None:
        self.directory = directory
        self.accounts = accounts
        self.ttl = ttl
        self._profiles: dict[str, tuple[Profile, float]] = {}  # by MRI and by AAD id
        self._mri: dict[str, str] = {}  # AAD object id -> MRI
        self._pending: dict[str, asyncio.Future[Profile | None]] = {}

    # --- who is who ---------------------------------------------------------------------

    def teams_id(self, person: str) -> str | None:
        """The AAD object id Baton knows for a person, if any."""
        return self.directory.account(person, SURFACE)

    def name_of(self, person: str) -> str:
        found = self.directory.person(person)
        return found.name if found else person

    def mri(self, aad: str) -> str | None:
        return self._mri.get(aad)

    def met(self, mri: str, aad: str) -> None:
        """Teams showed this user's MRI with their AAD object id."""
        if mri and aad:
            self._mri[aad] = mri

    def person_id(self, aad: str) -> str:
        """The Baton id of a Teams user (their AAD id when Baton knows no one by it: the core
        then says it does not know them)."""
        found = self.directory.person(aad)
        return found.id if found else aad

    # --- recognising users --------------------------------------------------------------

    async def sender(self, activity: Any, lookup: Lookup) -> str:
        """The Baton id of whoever sent the activity (identity from the validated activity
        only), matched by id, then by the e-mail Teams gives for them."""
        sender = activity.from_property
        aad = str(getattr(sender, "aad_object_id", None) or "")
        mri = str(getattr(sender, "id", None) or "")
        if not aad:
            return mri  # not a Teams user Baton can name (the core will say so)
        self.met(mri, aad)
        identity = Identity(SURFACE, aad, str(getattr(sender, "name", None) or ""),
                            time_zone=zone_of(activity))
        if not self.directory.knows(identity):
            profile = await self.profile(mri or aad, lookup)
            if profile is not None and profile.email:
                identity = Identity(SURFACE, aad, identity.name or profile.name, profile.email,
                                    identity.time_zone)
        person = await recognise(self.directory, self.accounts, identity)
        return person.id if person is not None else aad

    async def mentioned(self, mention: Mentioned, lookup: Lookup) -> Person:
        """The person a mention names; MentionError if Teams cannot say who it is or Baton
        knows no one by it."""
        aad = mention.aad_object_id or self._aad_of(mention.id)
        profile = None
        if not aad or not self.directory.knows(Identity(SURFACE, aad)):
            profile = await self.profile(mention.id or aad, lookup)
            if profile is not None:
                aad = aad or profile.aad
        if not aad:
            raise MentionError(f"Teams could not say who @{mention.name} is")
        self.met(mention.id, aad)
        identity = Identity(SURFACE, aad, mention.name or (profile.name if profile else ""),
                            profile.email if profile else "")
        person = await recognise(self.directory, self.accounts, identity)
        if person is None:
            raise MentionError(f"Baton does not know @{mention.name} (add them to baton.yaml "
                               f"with `teams: {aad}` or their e-mail)")
        return person

    def _aad_of(self, mri: str) -> str:
        return next((aad for aad, known in self._mri.items() if known == mri), "")

    async def mris(self, people: Sequence[str], lookup: Lookup) -> list[str]:
        """The Teams user ids (MRIs) of these people, as a card's refresh names them: known
        ones as kept, the others looked up with `lookup` (in the conversation at hand);
        people Teams cannot find there are left out."""
        found: list[str] = []
        for person in people:
            aad = self.teams_id(person)
            if not aad:
                continue
            mri = self.mri(aad)
            if mri is None:
                profile = await self.profile(aad, lookup)
                mri = profile.mri if profile is not None else None
            if mri:
                found.append(mri)
        return found

    async def profile(self, user: str, lookup: Lookup) -> Profile | None:
        """What Teams says about a user (by MRI or AAD id), looked up once per hour and shared
        by concurrent asks; None when Teams does not answer in time."""
        cached = self._profiles.get(user)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        pending = self._pending.get(user)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Profile | None] = asyncio.get_running_loop().create_future()
        self._pending[user] = future
        profile: Profile | None = None
        try:
            profile = await asyncio.wait_for(lookup(user), LOOKUP_SECONDS)
        except Exception as exc:  # a lookup is a courtesy: the command goes on without it
            log.warning("Teams member lookup for %s failed: %s", user[:12], type(exc).__name__)
        finally:
            del self._pending[user]
            future.set_result(profile)
        if profile is not None:
            expires = time.monotonic() + self.ttl
            for key in {user, profile.mri, profile.aad} - {""}:
                self._profiles[key] = (profile, expires)
            self.met(profile.mri, profile.aad)
        return profile
