"""Messages over real HTTP: `<verb> …` in a 1:1 chat, `@Baton <verb> …` in a channel and a
group chat, answered in the same conversation through the (mock) Bot Connector; mentions of
people as Baton's people; what people typed kept as text."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.items import State
from tests.adapters.teams.harness import (
    BOT,
    CHANNEL,
    GROUP,
    USERS,
    Server,
    personal_chat,
    shown,
)
from tests.adapters.teams.mock_teams import TENANT

BOB = ("Bob Okafor", USERS["bob"][1], "Bob Okafor")


async def item(server: Server, number: int):  # type: ignore[no-untyped-def]
    async with server.app.database.unit_of_work() as uow:
        return await uow.items.get("acme", number)


async def test_help_in_a_personal_chat_is_answered_there(server: Server) -> None:
    answer = await server.say("help")
    assert answer.status == 200 and answer.text == ""
    [reply] = server.mock.of("reply")
    assert reply.conversation == personal_chat("alice")
    assert reply.body["textFormat"] == "markdown"
    for verb in ("handoff", "exception", "approval", "mine", "digest", "snooze"):
        assert verb in reply.text
    assert reply.body["from"]["id"] == BOT  # the bot answers, addressed from its reference


async def test_a_handoff_typed_in_a_channel_thread_is_answered_in_that_thread(
        server: Server) -> None:
    message = server.message(
        "handoff <at>Bob Okafor</at> Review the release notes --due 2h --p high",
        where="channel", thread="1759881511856", mentions=[BOB])
    assert (await server.post(message)).status == 200

    [reply] = server.mock.of("reply")
    thread = f"{CHANNEL};messageid=1759881511856"
    assert (reply.conversation, reply.activity_id) == (thread, message["id"])
    assert "Created #1" in reply.text
    [card] = reply.cards
    assert shown(card["body"][0]) == "Handoff #1: Review the release notes"
    # In a channel the card carries no buttons of its own: Teams fetches each of the item's
    # people their own view (refresh), everyone else sees it as it is.
    assert "actions" not in card
    assert card["refresh"]["userIds"] == [USERS["alice"][1], USERS["bob"][1]]
    mentioned = {e["mentioned"]["id"] for e in card["msteams"]["entities"]}
    assert mentioned == {USERS["alice"][1], USERS["bob"][1]}

    found = await item(server, 1)
    assert (found.requester, found.owner, found.priority.value) == ("alice", "bob", "high")
    assert found.source.surface == "teams" and found.source.channel == thread
    assert found.due_at is not None
    # The reply's card is the item's copy in that thread: it is kept current.
    posts = await server.transport.views.posts("acme", 1)
    assert [(p.channel, p.ref) for p in posts] == [(thread, reply.id)]

    await server.deliver()
    # Raised in the team's own channel: no second copy there. Bob gets a direct message,
    # in a 1:1 chat Baton opens (it had none with him), with his own buttons.
    assert [c.kind for c in server.mock.calls if c.kind != "member"] == \
        ["reply", "create", "send"]
    [created] = server.mock.of("create")
    assert created.body["members"] == [{"id": USERS["bob"][0]}]
    assert created.body["bot"]["id"] == BOT
    assert created.body["channelData"] == {"tenant": {"id": TENANT}}
    [dm] = server.mock.of("send")
    assert dm.conversation == f"a:chat-with-{USERS['bob'][0]}"
    assert "<at>Alice Chen</at>" in dm.text and "#1" in dm.text
    titles = [a["title"] for a in dm.cards[0]["actions"]]
    assert titles[:2] == ["Accept", "Decline…"]
    skipped = [str(why) for _, why in server.skipped]
    assert skipped == ["#1 was raised on Teams: its card went with the reply"]


async def test_a_group_chat_mention_and_the_sender_alone_in_a_personal_chat(
        server: Server) -> None:
    assert (await server.say("mine", where="group")).status == 200
    assert (await server.say("mine")).status == 200
    group, personal = server.mock.of("reply")
    assert group.conversation == GROUP and personal.conversation == personal_chat("alice")
    assert group.text == personal.text  # the bot's own mention is no part of the command


async def test_mistakes_get_the_usage_line_and_change_nothing(server: Server) -> None:
    await server.say("handoff")
    await server.say("frobnicate #3")
    await server.say("accept #99")
    first, second, third = (c.text for c in server.mock.of("reply"))
    assert "handoff @user" in first  # the verb's usage line
    assert "unknown verb" in second
    assert "#99" in third
    assert await server.count("items") == 0


async def test_a_mention_found_by_e_mail_is_kept_as_that_person(server: Server) -> None:
    """Carol has no Teams id in baton.yaml, only her e-mail: Teams gives it for her."""
    carol = USERS["carol"]
    await server.say("handoff <at>Carol</at> Check the dashboards",
                     mentions=[("Carol", carol[1], "Carol Diaz")])
    assert (await item(server, 1)).owner == "carol"
    lookups = server.mock.of("member")
    assert carol[1] in {c.activity_id or c.conversation for c in lookups} or lookups
    async with server.app.database.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(
            "SELECT surface, account, person, email FROM accounts WHERE person='carol'")).all()
    assert [tuple(r) for r in rows] == [("teams", carol[0], "carol", "carol@example.com")]


async def test_what_people_type_stays_text(server: Server) -> None:
    """Teams sends what was typed with `& < >` as entities; Baton keeps it as typed and
    shows it as text (TextRuns, never markdown), so nothing in it becomes markup or a
    mention."""
    typed = "Fix &lt;at&gt;Bob&lt;/at&gt; **now** &amp; [link](https://evil.example) _x_"
    await server.say(f"handoff <at>Bob Okafor</at> {typed}", mentions=[BOB])
    found = await item(server, 1)
    assert found.title == "Fix <at>Bob</at> **now** & [link](https://evil.example) _x_"
    [reply] = server.mock.of("reply")
    heading = reply.cards[0]["body"][0]
    assert heading["type"] == "RichTextBlock"
    title = heading["inlines"][-1]["text"]
    # As typed, but for an invisible word joiner that keeps the typed tag from being a mention.
    assert title.replace("\u2060", "") == found.title and "<at>" not in title
    assert "**now**" in title and "[link](https://evil.example)" in title
    # Only Baton's own mentions ping: the typed one has no entity.
    assert {e["text"] for e in reply.cards[0]["msteams"]["entities"]} <= {
        "<at>Alice Chen</at>", "<at>Bob Okafor</at>"}


async def test_dates_are_read_in_the_senders_time_zone(server: Server) -> None:
    """Bob has no zone in baton.yaml: the one his Teams client reports counts."""
    await server.say("handoff @alice Sign the contract --due tomorrow 17:00", user="bob")
    found = await item(server, 1)
    assert found.due_at is not None
    local = found.due_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (local.hour, local.minute) == (17, 0)
    assert found.due_at - found.created_at < timedelta(days=2)


async def test_someone_baton_does_not_know_is_told_so(server: Server) -> None:
    await server.say("mine", user="mallory")
    [reply] = server.mock.of("reply")
    assert "know" in reply.text.lower()
    await server.say("handoff @bob Steal the keys", user="mallory")
    assert await server.count("items") == 0


async def test_a_message_teams_sends_twice_acts_once(server: Server) -> None:
    message = server.message("handoff <at>Bob Okafor</at> Once only", mentions=[BOB])
    assert (await server.post(message)).status == 200
    assert (await server.post(message)).status == 200
    assert await server.count("items") == 1
    assert len(server.mock.of("reply")) == 1


async def test_a_long_answer_is_split_between_messages_never_cut(server: Server) -> None:
    for n in range(30):
        await server.say(f"handoff <at>Bob Okafor</at> Task number {n} " + "x" * 150,
                         mentions=[BOB])
    server.mock.calls.clear()
    await server.say("list")
    replies = server.mock.of("reply")
    shown = "".join(r.text for r in replies)
    for n in range(25):  # the core shows the first 25, and says how many more there are
        assert f"Task number {n} " in shown
    assert "5 more" in shown


async def test_a_card_action_accepts_in_a_personal_chat(server: Server) -> None:
    await server.say("handoff <at>Bob Okafor</at> Rotate the keys", mentions=[BOB])
    await server.deliver()
    channel, dm = server.mock.of("send")  # raised in a 1:1 chat: the team's channel has it too
    assert channel.conversation == CHANNEL and "actions" not in channel.cards[0]
    answer = await server.post(server.click(dm.cards[0], "Accept", user="bob"))
    assert answer.status == 200
    card = answer.card
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["State"] == "active"
    assert "Accept" not in [a["title"] for a in card.get("actions", [])]
    found = await item(server, 1)
    assert found.state is State.ACTIVE
    async with server.app.database.engine.connect() as conn:
        surface = (await conn.exec_driver_sql(
            "SELECT surface FROM events WHERE action='accept'")).scalar_one()
    assert surface == "teams"
    assert json.dumps(card).count("Decline") == 0  # an accepted handoff cannot be declined


async def test_a_change_is_told_once_in_a_one_to_one_chat(server: Server) -> None:
    """Dave's team has no Teams channel: his item's only Teams copies are in 1:1 chats, which
    have no threads. When Bob accepts, Dave is told once, in a message of his own, not also
    by a 'thread' line in the same chat."""
    await server.say("handoff <at>Bob Okafor</at> Review the contract", user="dave",
                     mentions=[BOB])
    await server.deliver()
    dm = next(c for c in server.mock.of("send") if c.cards and "Accept" in c.shown())
    server.mock.calls.clear()
    assert (await server.post(server.click(dm.cards[0], "Accept", user="bob"))).status == 200
    await server.deliver()
    told = [c for c in server.mock.calls if c.kind in ("send", "reply") and "accepted" in c.text]
    assert len(told) == 1, [(c.kind, c.conversation, c.text) for c in told]
