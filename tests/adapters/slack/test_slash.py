"""`/baton` over real HTTP: every verb, replies ephemeral, new items' cards posted by the
outbox, long answers paged, Slack's mentions of people, groups and channels resolved."""

from __future__ import annotations

import json

from tests.adapters.slack.harness import Server


def card_texts(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks)


async def test_a_handoff_is_answered_ephemerally_and_its_card_posted_in_the_channel(
        server: Server) -> None:
    sent = await server.slash("handoff <@U0BOB|bob> Rotate the signing keys --p high",
                              user="U0ERIN")

    assert sent.status == 200
    body = sent.json()
    assert body["response_type"] == "ephemeral"
    assert body["text"] == "Created #1."
    assert "Handoff #1: Rotate the signing keys" in sent.reply
    assert "baton.cancel" in sent.reply  # the requester's own buttons
    assert "baton.accept" not in sent.reply  # not the receiver's

    delivered = await server.deliver()
    assert [m.audience.value for m in delivered] == ["card", "person"]
    card, dm = server.mock.to("chat.postMessage")
    assert card.args["channel"] == "C0PLATFORM"
    assert "baton.accept" in card_texts(card.args["blocks"])  # every button the state allows
    assert card.args["text"] == "<@U0ERIN> raised #1."
    assert dm.args["channel"] == "U0BOB"
    assert dm.args["text"] == "<@U0ERIN> handed you #1: Rotate the signing keys"
    assert "baton.accept" in card_texts(dm.args["blocks"])
    assert "baton.cancel" not in card_texts(dm.args["blocks"])  # bob may not cancel it
    async with server.app.database.unit_of_work() as uow:
        posts = await uow.posts.of_item("acme", 1, "slack")
    assert [p.channel for p in posts] == ["C0PLATFORM", "D0BOB"]


async def test_every_verb_from_the_slash_command(server: Server) -> None:
    async def say(text: str, user: str = "U0ALICE") -> str:
        sent = await server.slash(text, user=user)
        assert sent.status == 200
        assert sent.json()["response_type"] == "ephemeral"
        return str(sent.json()["text"])

    assert await say("handoff <@U0BOB> Ship the release notes --due 2d") == "Created #1."
    assert await say("accept #1", user="U0BOB") == "<@U0BOB> accepted #1."
    mine = await say("mine", user="U0BOB")
    assert mine.startswith("Yours (1):") and "#1 [handoff · active]" in mine
    listed = await say("list --team platform --state active")
    assert listed.startswith("1 item:") and "Ship the release notes" in listed
    assert await say("block #1 waiting on legal", user="U0BOB") == \
        "<@U0BOB> marked #1 blocked: waiting on legal."
    assert await say("unblock #1", user="U0BOB") == "<@U0BOB> unblocked #1."
    assert await say("comment #1 draft is in the doc") == \
        "<@U0ALICE> commented on #1: draft is in the doc."
    assert (await say("snooze #1 2h", user="U0BOB")).startswith(
        "<@U0BOB> snoozed reminders on #1 until")
    assert await say("done #1 shipped", user="U0BOB") == "<@U0BOB> finished #1: shipped."

    assert await say("handoff <@U0BOB> Second try") == "Created #2."
    assert await say("decline #2 no time this week", user="U0BOB") == \
        "<@U0BOB> declined #2: no time this week. It is back with <@U0ALICE>."
    assert await say("assign #2 <@U0ERIN|erin>") == "<@U0ALICE> assigned #2 to <@U0ERIN>."
    assert await say("cancel #2 not needed") == "<@U0ALICE> cancelled #2: not needed."

    assert await say("exception Flaky canary --team platform", user="U0BOB") == "Created #3."
    assert await say("take #3", user="U0ERIN") == "<@U0ERIN> took #3."
    assert await say("ack #3", user="U0ERIN") == "<@U0ERIN> acknowledged #3."
    assert await say("resolve #3 pinned the base image", user="U0ERIN") == \
        "<@U0ERIN> resolved #3: pinned the base image."

    assert await say("approval Launch v2 --approvers <@U0BOB> <@U0DAVE> --policy all") == \
        "Created #4."
    assert await say("approve #4 looks good", user="U0BOB") == \
        "<@U0BOB> approved #4: looks good."
    assert await say("reject #4 legal review missing", user="U0DAVE") == \
        "<@U0DAVE> rejected #4: legal review missing. #4 is rejected."

    assert await say("mine", user="U0BOB") == "Nothing open for you. 🎉"
    assert await say("list --team platform") == "No items match."
    assert (await say("show #1")).startswith("Trail:")
    assert (await say("audit #1")).startswith("Audit trail (seq, hash):")
    assert (await say("away until tomorrow --delegate <@U0ERIN>", user="U0BOB")).startswith(
        "You are away until")
    assert await say("back", user="U0BOB") == "Welcome back."
    assert (await say("digest --team platform")).strip() != ""
    assert (await say("help")).startswith("Baton verbs")
    assert (await say("help handoff")).startswith("handoff @user|#team")


async def test_bad_input_gets_the_usage_line_and_writes_nothing(server: Server) -> None:
    sent = await server.slash("handoff")
    assert sent.status == 200
    assert sent.json()["response_type"] == "ephemeral"
    assert sent.json()["text"].startswith("whom to? start with @user or #team")
    assert "Usage: handoff" in sent.json()["text"]

    unknown = await server.slash("frobnicate #1")
    assert unknown.json()["text"].startswith("unknown verb 'frobnicate'")

    refused = await server.slash("accept #99")
    assert "no item #99" in refused.json()["text"]

    stranger = await server.slash("mine", user="W0STRANGER")
    assert stranger.json()["text"].startswith("I don't know anyone called")
    assert await server.count("items") == 0
    assert await server.count("outbox") == 0


async def test_escaped_text_reaches_the_core_as_typed_and_goes_back_escaped(
        server: Server) -> None:
    sent = await server.slash("exception a &lt; b &amp;&amp; <!channel> ping")
    assert sent.json()["text"] == "Created #1."
    async with server.app.database.unit_of_work() as uow:
        item = await uow.items.get("acme", 1)
    assert item is not None and item.title == "a < b && @channel ping"  # as Slack shows it
    header = sent.json()["blocks"][1]
    assert header["text"] == {"type": "plain_text", "text": "Exception #1: a < b && "
                              "@channel ping", "emoji": True}  # plain text: shown as typed
    comment = await server.slash("comment #1 x &gt; y <!here> <https://example.com|docs> "
                                 "&lt;https://evil.example|https://good.example&gt;")
    section = comment.json()["blocks"][0]["text"]
    assert section == {"type": "mrkdwn", "text": "<@U0ALICE> commented on #1: x &gt; y "
                       "@here docs (https://example.com) &lt;https://evil.example|"
                       "https://good.example&gt;."}  # no @here ping, no link typed into being


async def test_user_groups_and_channels_resolve_to_people_and_teams(server: Server) -> None:
    server.mock.groups["S0REVIEW"] = ["U0BOB", "U0DAVE"]
    server.mock.groups["S0LEGAL"] = ["U0DAVE"]
    sent = await server.slash(
        "approval Publish the paper --approvers <!subteam^S0REVIEW|@reviewers> --policy all")
    assert sent.json()["text"] == "Created #1."
    async with server.app.database.unit_of_work() as uow:
        item = await uow.items.get("acme", 1)
    assert item is not None and item.approvers == ("bob", "dave")

    to_team = await server.slash("handoff <!subteam^S0X|@legal> Review the contract")
    assert to_team.json()["text"] == "Created #2."  # the group's handle names a team
    by_channel = await server.slash("exception Contract typo --team <#C0LEGAL|legal-team>")
    assert by_channel.json()["text"] == "Created #3."
    async with server.app.database.unit_of_work() as uow:
        two, three = await uow.items.get("acme", 2), await uow.items.get("acme", 3)
    assert two is not None and two.team == "legal" and two.owner is None
    assert three is not None and three.team == "legal"

    many = await server.slash("handoff <!subteam^S0REVIEW|@reviewers> Do it")
    assert "a handoff goes to one person or one team" in many.json()["text"]
    assert server.mock.to("usergroups.users.list")[0].args["usergroup"] == "S0REVIEW"


async def test_a_command_in_a_direct_message_posts_the_card_in_the_teams_channel(
        server: Server) -> None:
    await server.slash("exception Disk almost full", channel="D0ALICE",
                       channel_name="directmessage")
    await server.deliver()
    assert server.mock.to("chat.postMessage")[0].args["channel"] == "C0PLATFORM"


async def test_a_long_answer_is_paged_never_cut(server: Server) -> None:
    await server.slash("exception Noisy item")
    for i in range(120):
        await server.slash(f"comment #1 {'note ' * 20}{i}")
    sent = await server.slash("show #1")
    first = sent.json()
    assert "Page 1 of" in json.dumps(first["blocks"])
    pages = int(json.dumps(first["blocks"]).split("Page 1 of ")[1].split(" ")[0].rstrip('"'))
    assert pages > 1
    hooks = await server.mock.wait_for_hooks(pages - 1)
    assert all(h.body["response_type"] == "ephemeral" for h in hooks)
    assert all(h.body["replace_original"] is False for h in hooks)
    shown = json.dumps(first["blocks"]) + "".join(json.dumps(h.body["blocks"]) for h in hooks)
    for i in range(120):
        assert f"note {i}" in shown  # every comment is on some page
    assert f"Page {pages} of {pages}" in json.dumps(hooks[-1].body["blocks"])
