"""Slack users as Baton's people: baton.yaml's `slack:` ids, e-mail matches and open
directories; names and zones from users.info, looked up once and never for long."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import people
from adapters.slack.people import MentionError, SlackPeople, SlackText
from adapters.slack.webapi import web_client
from bot.config import ConfigDirectory
from bot.config.loader import parse_config, read_yaml
from tests.adapters.slack.harness import CONFIG
from tests.adapters.slack.mock_slack import MockSlack
from tests.fakes import FakeAccounts


@pytest.fixture
async def client(mock: MockSlack) -> AsyncIterator[AsyncWebClient]:
    async with aiohttp.ClientSession() as session:
        yield web_client(mock.api, session=session, token="xoxb-people-test")


def directory(text: str = CONFIG) -> SlackPeople:
    return SlackPeople(ConfigDirectory(parse_config(read_yaml(text))), FakeAccounts())


async def test_configured_people_keep_their_zone_and_take_slacks_when_they_set_none(
        client: AsyncWebClient) -> None:
    found = directory()
    await found.learn(client, {"U0ALICE", "U0BOB", "U0CAROL"})
    alice, bob, carol = (found.directory.person(u) for u in ("U0ALICE", "U0BOB", "U0CAROL"))
    assert alice is not None and (alice.id, alice.time_zone) == ("alice", "Europe/London")
    assert bob is not None and (bob.id, bob.time_zone) == ("bob", "Asia/Tokyo")
    assert carol is not None and carol.id == "carol"  # by the e-mail users.info gave
    assert (found.slack_id("carol"), found.slack_id("alice")) == ("U0CAROL", "U0ALICE")
    assert found.directory.person("W0STRANGER") is None  # baton.yaml lists people; not this
    assert found.directory.is_admin("U0ALICE") and not found.directory.is_admin("U0BOB")
    assert [t.name for t in found.directory.teams_of("U0CAROL")] == ["platform"]
    # The match is kept, so another replica (or a restart) agrees who U0CAROL is.
    assert ("slack", "U0CAROL") in found.accounts.kept  # type: ignore[attr-defined]
    assert found.team_of_channel("C0LEGAL") is not None


async def test_in_an_open_directory_every_slack_user_takes_part(client: AsyncWebClient,
                                                                 mock: MockSlack) -> None:
    found = directory("workspace: open\n")
    await found.learn(client, {"U0BOB"})
    bob = found.directory.person("U0BOB")
    assert bob is not None
    assert (bob.id, bob.name, bob.email, bob.time_zone) == (
        "U0BOB", "Bob Okafor", "bob@example.com", "Asia/Tokyo")
    unknown = found.directory.person("U0NEVERSEEN")  # not looked up yet: still a person, by id
    assert unknown is not None and unknown.name == "U0NEVERSEEN"
    assert found.slack_id("U0BOB") == "U0BOB"


async def test_users_are_looked_up_once(client: AsyncWebClient, mock: MockSlack) -> None:
    found = directory()
    await asyncio.gather(*(found.learn(client, {"U0BOB", "U0DAVE"}) for _ in range(10)))
    await found.learn(client, {"U0BOB"})
    assert sorted(c.args["user"] for c in mock.to("users.info")) == ["U0BOB", "U0DAVE"]


async def test_a_failed_or_slow_lookup_does_not_hold_the_request(
        client: AsyncWebClient, mock: MockSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    found = directory()
    await found.learn(client, {"U0MISSING"})  # users.info: user_not_found
    assert found.directory.person("U0MISSING") is None

    monkeypatch.setattr(people, "LOOKUP_SECONDS", 0.2)
    mock.slow["users.info"] = 2.0
    started = time.monotonic()
    await found.learn(client, {"U0ERIN"})
    assert time.monotonic() - started < 1.0
    erin = found.directory.person("U0ERIN")
    assert erin is not None and erin.id == "erin"  # baton.yaml's slack id still finds her


async def test_groups_and_channels_in_command_text(client: AsyncWebClient,
                                                   mock: MockSlack) -> None:
    mock.groups["S0TWO"] = ["U0BOB", "U0DAVE"]
    mentions = SlackText(directory())
    assert await mentions.read(client, "approval x --approvers <!subteam^S0TWO|@pair>") \
        == "approval x --approvers @bob @dave"
    assert await mentions.read(client, "handoff <!subteam^S9|@legal> y") == \
        "handoff #legal y"
    assert await mentions.read(client, "list --team <#C0PLATFORM|plat>") == \
        "list --team #platform"
    assert await mentions.read(client, "list --team <#C0OTHER|random>") == \
        "list --team #random"
    with pytest.raises(MentionError, match="one person or one team"):
        await mentions.read(client, "handoff <!subteam^S0TWO|@pair> z")
    with pytest.raises(MentionError, match="usergroups:read"):
        await mentions.read(client, "approval x --approvers <!subteam^S0GONE|@gone>")
    with pytest.raises(MentionError, match="not a team's channel"):
        await mentions.read(client, "list --team <#C0NONAME>")
    assert [c.args["usergroup"] for c in mock.to("usergroups.users.list")] == [
        "S0TWO", "S0GONE"]  # S0TWO looked up once, then cached


async def test_typed_text_stays_text_and_only_slacks_markup_is_read(
        client: AsyncWebClient) -> None:
    mentions = SlackText(directory())
    # What a person typed arrives escaped; only what Slack itself marked up is markup.
    assert await mentions.read(
        client, "handoff <@U0BOB|bob> &lt;https://evil.example|https://good.example&gt; "
                "&amp; <https://docs.example/x> <mailto:a@b.example|a@b.example> <!here>") == (
        "handoff @bob <https://evil.example|https://good.example> & "
        "https://docs.example/x a@b.example @here")
    # A link Slack made with another label keeps both, so no label hides where it goes.
    assert await mentions.read(client, "see <https://evil.example|https://good.example>") == \
        "see https://good.example (https://evil.example)"
