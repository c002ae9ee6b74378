"""Adaptive Cards with Universal Actions, over real HTTP: each click an `adaptiveCard/action`
invoke acted on as the person who clicked (the validated sender, never the card's data), and
answered with the refreshed card; a reason asked in the card; shared copies with `refresh`;
tampered buttons refused on the card. Every invoke response is checked against the Adaptive
Card 1.5 schema by the harness (the mock's `problems`)."""

from __future__ import annotations

import html
from typing import Any

from adapters.teams.cards import CARD_BYTES, item_card, size
from adapters.teams.clicks import Signer
from adapters.teams.markdown import Renderer
from bot.cards import Card
from bot.items import State
from bot.rich import Rich, fmt, lines, text
from bot.rich import person as mention
from tests.adapters.teams.adaptive import card_problems
from tests.adapters.teams.harness import CHANNEL, USERS, Answer, Server

BOB = ("Bob Okafor", USERS["bob"][1], "Bob Okafor")


async def item(server: Server, number: int):  # type: ignore[no-untyped-def]
    async with server.app.database.unit_of_work() as uow:
        return await uow.items.get("acme", number)


def titles(card: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card.get("actions") or []]


def facts(card: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for block in card["body"]:
        if block["type"] == "FactSet":
            found |= {f["title"]: f["value"] for f in block["facts"]}
    return found


def error_on(card: dict[str, Any]) -> str:
    shown = [b["text"] for b in card["body"] if b.get("color") == "Attention"]
    return shown[0] if shown else ""


async def events(server: Server) -> list[tuple[str, str, str]]:
    async with server.app.database.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(
            "SELECT action, actor, surface FROM events ORDER BY id")).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def handoff_to_bob(server: Server, title: str = "Rotate the keys") -> dict[str, Any]:
    """Alice hands Bob a job from her 1:1 chat; the card Bob gets in his (his buttons)."""
    await server.say(f"handoff <at>Bob Okafor</at> {title}", mentions=[BOB])
    await server.deliver()
    [dm] = [c for c in server.mock.of("send") if c.conversation != CHANNEL]
    server.mock.calls.clear()
    return dm.cards[0]


async def test_the_one_to_one_card_carries_its_viewers_buttons(server: Server) -> None:
    card = await handoff_to_bob(server)
    assert titles(card)[:2] == ["Accept", "Decline…"]
    assert "refresh" not in card  # one viewer: nothing to refresh for others
    accept = card["actions"][0]
    assert accept["type"] == "Action.Execute" and accept["verb"] == "baton.accept"
    assert accept["data"]["item"] == 1 and "user" not in accept["data"]


async def test_decline_asks_the_reason_in_the_card(server: Server) -> None:
    card = await handoff_to_bob(server)
    decline = next(a for a in card["actions"] if a["title"] == "Decline…")
    assert decline["type"] == "Action.ShowCard"
    [box] = decline["card"]["body"]
    assert (box["type"], box["id"], box["isRequired"]) == ("Input.Text", "reason", True)

    answer = await server.post(server.click(card, "Decline", user="bob",
                                            reason="On leave all week"))
    assert answer.status == 200
    found = await item(server, 1)
    assert (found.state, found.owner) == (State.OPEN, "alice")  # back to the requester
    assert ("decline", "bob", "teams") in await events(server)
    assert "On leave all week" in await events_text(server)
    # Bob no longer owns it: his view has no Accept or Decline.
    assert not {"Accept", "Decline…"} & set(titles(answer.card))


async def events_text(server: Server) -> str:
    async with server.app.database.engine.connect() as conn:
        rows = (await conn.exec_driver_sql("SELECT * FROM events")).all()
    return repr(rows)


async def test_a_missing_reason_gets_the_card_back_with_the_error(server: Server) -> None:
    card = await handoff_to_bob(server)
    for reason in (None, "", "   "):
        answer = await server.post(server.click(card, "Decline", user="bob", reason=reason))
        assert answer.status == 200
        shown = answer.card
        assert "reason" in error_on(shown).lower() or "decline" in error_on(shown).lower(), \
            shown["body"]
        assert "Decline…" in titles(shown)  # the same buttons: try again
    found = await item(server, 1)
    assert (found.state, found.owner) == (State.OPEN, "bob")
    assert [e[0] for e in await events(server)] == ["created"]


async def test_a_handoff_to_a_team_offers_its_members_their_buttons(server: Server) -> None:
    """Unowned, in the team's queue: any member may accept or take it, so each member Teams
    knows gets their own buttons on the channel's copy, as the rules grant them."""
    await server.say("handoff #platform Rotate the certificates", where="channel")
    [reply] = server.mock.of("reply")
    shared = reply.cards[0]
    assert USERS["bob"][1] in shared["refresh"]["userIds"]
    bobs = (await server.post(server.refresh(shared, user="bob"))).card
    assert "Accept" in titles(bobs)
    daves = (await server.post(server.refresh(shared, user="dave"))).card  # not of the team
    assert "Accept" not in titles(daves)


async def test_a_shared_card_refreshes_to_each_persons_own_buttons(server: Server) -> None:
    await server.say("handoff <at>Bob Okafor</at> Patch the fleet", where="channel",
                     mentions=[BOB])
    [reply] = server.mock.of("reply")
    shared = reply.cards[0]
    assert "actions" not in shared
    assert set(shared["refresh"]["userIds"]) == {USERS["alice"][1], USERS["bob"][1]}

    bobs = (await server.post(server.refresh(shared, user="bob"))).card
    assert titles(bobs)[:2] == ["Accept", "Decline…"]
    assert bobs["refresh"]["userIds"] == shared["refresh"]["userIds"]
    alices = (await server.post(server.refresh(shared, user="alice"))).card
    assert "Accept" not in titles(alices) and "Cancel" in titles(alices)
    carols = (await server.post(server.refresh(shared, user="carol"))).card
    assert "Accept" not in titles(carols) and "Cancel" not in titles(carols)
    # Seeing is not acting: nothing was written by the refreshes.
    assert [e[0] for e in await events(server)] == ["created"]

    # Bob accepts on the shared card: his answer is his view of it, kept shared.
    answer = await server.post(server.click(bobs, "Accept", user="bob", where="channel"))
    card = answer.card
    assert facts(card)["State"] == "active" and "Done" in titles(card)
    assert "refresh" in card
    assert (await item(server, 1)).state is State.ACTIVE


async def test_the_clicker_is_the_sender_never_the_cards_data(server: Server) -> None:
    card = await handoff_to_bob(server)
    accept = next(a for a in card["actions"] if a["title"] == "Accept")
    # Carol presses Bob's button (the data names no one; add a name to try).
    forged = dict(accept["data"], user="bob", from_="bob", person="bob")
    answer = await server.post(server.click(card, "Accept", user="carol", data=forged))
    shown = answer.card
    assert error_on(shown), shown["body"]
    assert "Accept" not in titles(shown)  # Carol's own view: not hers to accept
    found = await item(server, 1)
    assert found.state is State.OPEN
    assert [e[0] for e in await events(server)] == ["created"]


async def test_tampered_buttons_are_refused_on_the_card(server: Server) -> None:
    card = await handoff_to_bob(server)
    await server.say("handoff <at>Bob Okafor</at> Another one", mentions=[BOB])
    accept = next(a for a in card["actions"] if a["title"] == "Accept")
    other_item = dict(accept["data"], item=2)
    other_verb = dict(accept["data"], verb="done")
    unsigned = {k: v for k, v in accept["data"].items() if k != "sig"}
    for data in (other_item, other_verb, unsigned):
        answer = await server.post(server.click(card, "Accept", user="bob", data=data))
        assert answer.status == 200
        shown = answer.card
        assert "did not match" in error_on(shown), data
    # The verb outside the data (Action.Execute's own) must match it too.
    body = server.click(card, "Accept", user="bob")
    body["value"]["action"]["verb"] = "baton.decline"
    assert "did not match" in error_on((await server.post(body)).card)
    for number in (1, 2):
        assert (await item(server, number)).state is State.OPEN
    assert [e[0] for e in await events(server)] == ["created", "created"]


async def test_what_is_not_a_baton_button_is_answered_with_a_message(server: Server) -> None:
    await handoff_to_bob(server)
    for value in ({"action": {"type": "Action.Execute", "verb": "x", "data": "nope"}},
                  {"action": {"type": "Action.Submit", "data": {"baton": "card", "item": 1}}},
                  {"nothing": True}, "text", None,
                  {"action": {"type": "Action.Execute", "verb": "baton.accept",
                              "data": {"baton": "card", "item": -5, "sig": "x"}}}):
        body = server.invoke({}, user="bob")
        body["value"] = value
        answer = await server.post(body)
        assert answer.status == 200, value
        reply = answer.json()
        assert reply["type"] == "application/vnd.microsoft.activity.message"
        assert "could not read that button" in reply["value"]
    assert (await item(server, 1)).state is State.OPEN


async def test_a_click_on_an_item_that_is_not_there(server: Server) -> None:
    card = await handoff_to_bob(server)
    accept = next(a for a in card["actions"] if a["title"] == "Accept")
    signer = server.transport.composer.signer
    data = dict(accept["data"], item=77, sig=signer.sign(77, "accept"))
    answer = await server.post(server.click(card, "Accept", user="bob", data=data))
    assert answer.json()["value"] == "That item is no longer there."


async def test_the_same_click_sent_twice_acts_once(server: Server) -> None:
    card = await handoff_to_bob(server)
    body = server.click(card, "Accept", user="bob")
    first, second = await server.post(body), await server.post(body)
    assert facts(first.card)["State"] == facts(second.card)["State"] == "active"
    assert [e[0] for e in await events(server)] == ["created", "accept"]


async def approval(server: Server, policy: str = "all") -> dict[str, dict[str, Any]]:
    """Alice asks Bob and Dave; each one's card, from their 1:1 chats."""
    await server.say(f"approval Ship 2.0 --approvers @bob @dave --policy {policy}")
    await server.deliver()
    cards = {}
    for person in ("bob", "dave"):
        [dm] = [c for c in server.mock.of("send")
                if c.conversation == f"a:chat-with-{USERS[person][0]}"]
        cards[person] = dm.cards[0]
    server.mock.calls.clear()
    return cards


async def test_approvers_decide_on_their_own_cards(server: Server) -> None:
    cards = await approval(server)
    assert titles(cards["bob"])[:2] == ["Approve", "Reject…"]
    first = await server.post(server.click(cards["bob"], "Approve", user="bob"))
    assert "Approve" not in titles(first.card)  # decided: nothing left for Bob
    assert (await item(server, 1)).state is State.ACTIVE
    # Reject asks a reason; without one the card says so and nothing is decided.
    missing = await server.post(server.click(cards["dave"], "Reject", user="dave", reason=""))
    assert error_on(missing.card) and (await item(server, 1)).state is State.ACTIVE
    done = await server.post(server.click(cards["dave"], "Reject", user="dave",
                                          reason="Legal has not signed off"))
    assert facts(done.card)["State"].startswith("done")
    found = await item(server, 1)
    assert (found.state, found.outcome) == (State.DONE, "rejected")
    # Alice may not approve her own request, whatever the button claims.
    signer = server.transport.composer.signer
    forged = {"baton": "card", "item": 1, "verb": "approve",
              "sig": signer.sign(1, "approve")}
    answer: Answer = await server.post(server.click(cards["bob"], "Approve", user="alice",
                                                    data=forged))
    assert error_on(answer.card)


async def test_resolve_and_block_ask_their_reason_too(server: Server) -> None:
    await server.say("exception Disk full on db-3 --team platform --owner @bob")
    await server.say("ack #1", user="bob")
    server.mock.calls.clear()
    view = (await server.post(server.refresh(
        {"refresh": {"action": {"type": "Action.Execute", "verb": "baton.refresh",
                                "data": server.transport.composer.signer.data("refresh", 1)}}},
        user="bob", where="personal"))).card
    assert {"Resolve…", "Block…"} <= set(titles(view))
    blocked = await server.post(server.click(view, "Block", user="bob", reason=""))
    assert error_on(blocked.card) and (await item(server, 1)).state is State.ACTIVE
    blocked = await server.post(server.click(view, "Block", user="bob",
                                             reason="Waiting on storage"))
    assert (await item(server, 1)).state is State.BLOCKED
    assert "Waiting on storage" in facts(blocked.card)["Blocked"]
    unblocked = await server.post(server.click(blocked.card, "Unblock", user="bob"))
    assert (await item(server, 1)).state is State.ACTIVE
    resolved = await server.post(server.click(unblocked.card, "Resolve", user="bob",
                                              reason="Rotated the logs"))
    found = await item(server, 1)
    assert (found.state, found.outcome) == (State.DONE, "resolved")
    assert titles(resolved.card) == [] or "Resolve…" not in titles(resolved.card)


def walk(node: Any) -> list[dict[str, Any]]:
    """Every element of a card (body, containers, actions' cards), depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "type" in node:
            found.append(node)
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for value in node:
            found += walk(value)
    return found


def markdown_texts(card: dict[str, Any]) -> list[str]:
    """What the card gives Teams to read as markdown: TextBlocks' text, facts' values."""
    return [n["text"] for n in walk(card) if n["type"] == "TextBlock"] + \
        [f["value"] for n in walk(card) if n["type"] == "FactSet" for f in n["facts"]]


def runs(card: dict[str, Any]) -> list[str]:
    return [n["text"] for n in walk(card) if n["type"] == "TextRun"]


TYPED = "fix a_b *now* <b>x</b> & [y](https://evil.example)"


async def test_a_typed_title_is_a_text_run_and_the_fallback_plain_text(
        server: Server) -> None:
    """Teams' mobile clients keep markdown's backslash escapes on screen, and a card's
    fallbackText is plain text: what a person typed goes in TextRuns, never in markdown."""
    # Teams sends what was typed with `& < >` as entities.
    card = await handoff_to_bob(server, html.escape(TYPED, quote=False))
    assert (await item(server, 1)).title == TYPED
    [heading] = [n for n in card["body"][:1] if n["type"] == "RichTextBlock"]
    assert TYPED in [run["text"] for run in heading["inlines"]]
    assert {(run["weight"], run["size"]) for run in heading["inlines"]} == {
        ("Bolder", "Medium")}
    for shown in markdown_texts(card):
        assert "a_b" not in shown and "now" not in shown and "evil" not in shown, shown
    assert TYPED in card["fallbackText"] and "\\" not in card["fallbackText"]
    assert card_problems(card) == []
    # The card Bob gets back on a click says it the same way.
    answer = await server.post(server.click(card, "Accept", user="bob"))
    assert TYPED in runs(answer.card) and TYPED in answer.card["fallbackText"]
    assert not [t for t in markdown_texts(answer.card) if "a_b" in t]


def test_typed_details_and_reasons_are_text_runs_mentions_stay_markdown() -> None:
    renderer = Renderer(teams_id=lambda p: f"aad-{p}" if p == "bob" else None,
                        name_of=str.capitalize)
    approvers = lines([fmt("{who}: ❌ rejected: {note}", who=mention("bob"), note=TYPED),
                       fmt("{who}: ✅ approved: {note}", who=mention("carol"), note=TYPED)])
    fields: tuple[tuple[str, Rich], ...] = (
        ("State", text("blocked")), ("Approvers (all)", approvers),
        ("Blocked", text(TYPED)), ("Owner", Rich((mention("bob"),))))
    card = Card(7, "approval", TYPED, "blocked", fields, (), details=f"{TYPED}\nline two")
    shown = item_card(card, renderer, Signer("s"))
    assert card_problems(shown) == []
    assert f"{TYPED}\nline two" in runs(shown)
    # Carol has no Teams account: her line is plain text, as typed.
    assert f"@Carol: ✅ approved: {TYPED}" in runs(shown)
    # The Blocked reason would need escapes in a fact: it is a TextRun under its label.
    assert TYPED in runs(shown) and "Blocked" not in facts(shown)
    # Bob's line mentions him, so it stays markdown (escaped) with its entity.
    [bobs] = [t for t in markdown_texts(shown) if t.startswith("<at>Bob</at>: ")]
    assert "a\\_b" in bobs and "&lt;b&gt;" in bobs
    assert facts(shown)["State"] == "blocked" and facts(shown)["Owner"] == "<at>Bob</at>"
    assert [e["text"] for e in shown["msteams"]["entities"]] == ["<at>Bob</at>"]
    assert shown["fallbackText"] == f"Approval #7: {TYPED} (blocked)"


def test_long_details_are_shortened_as_text_runs() -> None:
    renderer = Renderer(teams_id=lambda p: None, name_of=str.capitalize)
    details = (TYPED + " ") * 2000
    # Fields enough to take the card near Teams' limit: its details make way.
    many = tuple((f"Field {n}", text("x" * 100)) for n in range(180))
    card = Card(3, "handoff", "Big", "open", many, (), details=details)
    shown = item_card(card, renderer, Signer("s"))
    assert card_problems(shown) == [] and size(shown) <= CARD_BYTES
    [block] = [n for n in shown["body"] if n.get("id") == "details"]
    assert block["type"] == "RichTextBlock"
    assert block["inlines"][0]["text"].startswith(TYPED)
    assert "show" in [run["text"] for run in block["inlines"]]


def test_a_typed_mention_tag_is_not_a_mention() -> None:
    renderer = Renderer(teams_id=lambda p: None, name_of=str.capitalize)
    card = Card(1, "handoff", "ping <at>Bob</at> now", "open", (), ())
    shown = item_card(card, renderer, Signer("s"))
    assert card_problems(shown) == []  # no `<at>` without its entity
    title = shown["body"][0]["inlines"][1]["text"]
    assert title != card.title and title.replace("\u2060", "") == card.title
    assert "msteams" not in shown
