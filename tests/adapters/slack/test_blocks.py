"""Block Kit rendering within Slack's limits, checked with slack_sdk's models and the schema
from Slack's TypeScript types: cards, pages, modals and the Home tab; and mrkdwn that never
loses text nor lets a title ping a channel."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack import mrkdwn
from adapters.slack.blocks import MAX_MESSAGE_BLOCKS, Renderer
from adapters.slack.payloads import ButtonValue, CreateMeta, ReasonMeta
from adapters.slack.views import create_modal, home_view, notice_modal, reason_modal
from bot import rich
from bot.cards import ACTION_LABELS, Card, CardAction
from bot.items import Kind
from bot.rules import NEEDS_REASON, Verb
from tests.adapters.slack.blockkit import message_problems, view_problems

SLACK_IDS = {"alice": "U0ALICE", "U0BOB": "U0BOB"}
renderer = Renderer(SLACK_IDS.get, lambda person: person.capitalize())


def big_card(**changes: object) -> Card:
    card = Card(
        number=12345, kind="approval", title="T" * 200, state="open",
        fields=tuple((f"Field {i}", f"<@alice> & <@nobody> {'v' * 2500}") for i in range(14)),
        actions=tuple(CardAction(v.value, label, 12345, v in NEEDS_REASON, style)
                      for v, (label, style) in ACTION_LABELS.items()) * 3,
        details="<b>&</b> " * 1000, permalink="https://acme.slack.com/archives/C1/p1")
    return Card(**{**card.__dict__, **changes})  # type: ignore[arg-type]


def test_a_card_at_every_limit_is_still_a_valid_message() -> None:
    blocks = renderer.card(big_card())
    assert message_problems(blocks) == []
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    shown = json.dumps(blocks)
    assert "T" * 200 in shown  # a long title: the header is clipped, the title is shown whole
    assert '"text": "Source message"' not in shown and "|Source message>" in shown
    details = "".join(b["text"]["text"] for b in blocks
                      if b["type"] == "section" and "text" in b).split("*Details*\n", 1)[1]
    assert mrkdwn.unescape(details) == "<b>&</b> " * 1000  # split over sections, all there
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 33 and all(len(b["value"]) <= 2000 for b in buttons)


def test_buttons_carry_a_typed_value_and_reasons_say_they_ask() -> None:
    blocks = renderer.card(big_card(actions=(CardAction("reject", "Reject", 7, True, "danger"),
                                             CardAction("cancel", "Cancel", 7))))
    reject, cancel = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert ButtonValue.model_validate_json(reject["value"]) == ButtonValue(verb=Verb.REJECT,
                                                                          number=7)
    assert (reject["action_id"], reject["text"]["text"], reject["style"]) == (
        "baton.reject", "Reject…", "danger")
    assert cancel["confirm"]["title"]["text"] == "Cancel #7?"
    assert "style" not in cancel  # a default button has no style key


def test_long_replies_are_paged_and_every_line_is_on_a_page() -> None:
    lines = [f"line {i}: " + "x" * 120 for i in range(600)]
    pages = renderer.pages("\n".join(lines), (big_card(),))
    assert len(pages) > 1
    for number, page in enumerate(pages, 1):
        assert message_problems(page) == []
        assert page[-1]["elements"][0]["text"].startswith(f"Page {number} of {len(pages)}")
    shown = "\n".join(b["text"]["text"] for page in pages for b in page
                      if b["type"] == "section" and "text" in b)
    assert all(line in shown for line in lines)


def test_a_short_reply_is_one_page_without_a_page_note() -> None:
    (page,) = renderer.pages("Created #1.", (big_card(fields=(), details=""),))
    assert page[0] == {"type": "section", "text": {"type": "mrkdwn", "text": "Created #1."}}
    assert "Page" not in json.dumps(page)


def test_rich_text_renders_for_slack_and_typed_text_never_becomes_markup() -> None:
    text = rich.fmt("{a} & {b} asked {typed} about {team} at {link} *now*",
                    a=rich.person("alice"), b=rich.person("nobody"),
                    typed="<!channel> <https://evil.example|https://good.example> <script>",
                    team=rich.team("legal"), link=rich.link("https://x.example/a?b=1", "the doc"))
    assert mrkdwn.render(text, SLACK_IDS.get, str.capitalize) == (
        "<@U0ALICE> &amp; @Nobody asked &lt;!channel&gt; &lt;https://evil.example|"
        "https://good.example&gt; &lt;script&gt; about #legal at "
        "<https://x.example/a?b=1|the doc> *now*")
    assert mrkdwn.plain(rich.fmt("{a} and {b}", a=rich.person("alice"), b=rich.person("bob")),
                        str.upper) == "@ALICE and @BOB"


@given(st.lists(st.sampled_from([*"ab &<>\n", "<@alice>", "&amp;", "x" * 40, "@alice"]),
                max_size=100),
       st.integers(min_value=20, max_value=120))
def test_splitting_loses_nothing_and_never_cuts_markup(parts: list[str], limit: int) -> None:
    message = rich.join([rich.person("alice") if p == "@alice" else p for p in parts])
    rendered = mrkdwn.render(message, SLACK_IDS.get, str.capitalize)
    pieces = mrkdwn.split(rendered, limit)
    assert all(len(p) <= limit for p in pieces)
    assert "".join(pieces).replace("\n", "") == rendered.replace("\n", "")
    for piece in pieces:
        assert piece.count("<") == piece.count(">")  # markup whole in one piece
        assert "&" not in piece.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")


def test_clipping_says_so() -> None:
    assert mrkdwn.clip("short", 10) == "short"
    clipped = mrkdwn.clip("a long sentence that goes on", 12)
    assert clipped.endswith("…") and len(clipped) <= 12


def test_every_modal_is_valid() -> None:
    teams = [f"team-{i}" for i in range(120)]
    views = [create_modal(CreateMeta(kind=kind), teams) for kind in (*Kind, None)]
    views.append(create_modal(CreateMeta(channel="C1", message_ts="1.2"), teams,
                              title="t" * 500, details="d" * 5000))
    views += [reason_modal(ReasonMeta(verb=v, number=99999)) for v in NEEDS_REASON]
    views.append(notice_modal("Can't accept #1: it is done. You can: comment.", renderer))
    for view in views:
        assert view_problems(view) == []
    team_select = next(b for b in views[0]["blocks"] if b["block_id"] == "to_team")
    assert len(team_select["element"]["options"]) == 100
    assert "Showing the first 100 of 120 teams" in team_select["hint"]["text"]


def test_a_crowded_home_tab_fits_and_says_where_the_rest_is() -> None:
    mine = "\n".join(f"#{i} [handoff · open] " + "m" * 200 for i in range(2000))
    board = "\n".join(f"#{i} [exception · open] " + "b" * 200 for i in range(2000))
    view = home_view(renderer, mine, "Team board: #platform", board, "Mon 09:00")
    assert view_problems(view) == []
    assert len(view["blocks"]) == 100
    shown = json.dumps(view)
    assert "`/baton mine` shows it all" in shown and "`/baton list` shows it all" in shown
