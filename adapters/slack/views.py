"""Modals and the App Home tab: what Baton asks in a form, and what it shows at home."""

from __future__ import annotations

from typing import Any

from adapters.slack import mrkdwn
from adapters.slack.blocks import (
    MAX_VIEW_BLOCKS,
    Block,
    Renderer,
    actions,
    button,
    context,
    divider,
    plain_text,
    section,
)
from adapters.slack.payloads import NEW_PREFIX, CallbackId, CreateMeta, ReasonMeta
from bot.cards import ACTION_LABELS
from bot.items import Kind, Priority
from bot.rich import Rich
from bot.rules import Verb

View = dict[str, Any]

TITLE_CHARS = 200  # the grammar's limit on a title
DETAILS_CHARS = 3000
REASON_CHARS = 3000
MAX_OPTIONS = 100
METADATA_CHARS = 3000
POLICIES = ("any", "all", "sequence", "quorum:2", "quorum:3")

_KIND_TITLES = {None: "New Baton item", Kind.HANDOFF: "New handoff",
                Kind.EXCEPTION: "New exception", Kind.APPROVAL: "New approval"}
_REASON_LABEL = {Verb.DECLINE: "Why are you declining it?", Verb.REJECT: "Why reject it?",
                 Verb.RESOLVE: "How was it resolved?", Verb.BLOCK: "What is it blocked by?"}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain_text(text, 75), "value": value}


def _input(block: str, label: str, element: dict[str, Any], *, optional: bool = False,
           hint: str = "") -> Block:
    element = {**element, "action_id": block}
    found: Block = {"type": "input", "block_id": block, "label": plain_text(label, 2000),
                    "element": element, "optional": optional}
    if hint:
        found["hint"] = plain_text(hint, 2000)
    return found


def _text_input(initial: str, limit: int, *, multiline: bool = False,
                placeholder: str = "") -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "max_length": limit,
                               "multiline": multiline}
    if initial:
        element["initial_value"] = mrkdwn.clip(initial, limit)
    if placeholder:
        element["placeholder"] = plain_text(placeholder, 150)
    return element


def _select(options: list[dict[str, Any]], initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "options": options[:MAX_OPTIONS]}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def _team_input(block: str, label: str, teams: list[str]) -> Block:
    hint = (f"Showing the first {MAX_OPTIONS} of {len(teams)} teams; for another, use "
            f"`/baton` with --team." if len(teams) > MAX_OPTIONS else "")
    return _input(block, label, _select([option(f"#{t}", t) for t in teams]), optional=True,
                  hint=hint)


def create_modal(meta: CreateMeta, teams: list[str], *, title: str = "",
                 details: str = "") -> View:
    """The form that raises an item: of `meta.kind`, or of a kind chosen in the form."""
    kind = meta.kind
    blocks: list[Block] = []
    if kind is None:
        kinds = [option(k.value.capitalize(), k.value) for k in Kind]
        blocks.append(_input("kind", "Kind", _select(kinds, Kind.EXCEPTION.value
                                                      if meta.message_ts else Kind.HANDOFF)))
    blocks.append(_input("title", "Title", _text_input(title, TITLE_CHARS,
                                                        placeholder="What needs doing?")))
    if kind in (None, Kind.HANDOFF):
        blocks.append(_input("to_user", "Hand off to a person", {"type": "users_select"},
                             optional=True, hint="A handoff goes to a person or a team."))
        blocks.append(_team_input("to_team", "…or to a team's queue", teams))
    if kind in (None, Kind.EXCEPTION):
        blocks.append(_input("owner", "Owner", {"type": "users_select"}, optional=True,
                             hint="Leave empty to put it in the team's triage queue."))
    if kind in (None, Kind.APPROVAL):
        blocks.append(_input("approvers", "Approvers", {"type": "multi_users_select"},
                             optional=kind is None))
        policies = [option(p, p) for p in POLICIES]
        blocks.append(_input("policy", "Policy", _select(policies, "any"), optional=True,
                             hint="any: first decision wins; all; sequence: in order; "
                                  "quorum:N approvals."))
    if kind in (None, Kind.EXCEPTION, Kind.APPROVAL):
        blocks.append(_team_input("team", "Team", teams))
    priorities = [option(p.value.capitalize(), p.value) for p in Priority]
    blocks.append(_input("priority", "Priority", _select(priorities, Priority.NORMAL.value)))
    blocks.append(_input("due_date", "Due date", {"type": "datepicker"}, optional=True))
    blocks.append(_input("due_time", "Due time", {"type": "timepicker"}, optional=True,
                         hint="In your time zone; a date alone means 17:00 that day."))
    blocks.append(_input("details", "Details", _text_input(details, DETAILS_CHARS,
                                                            multiline=True), optional=True))
    if not meta.channel:
        blocks.append(_input("channel", "Post the card in", {
            "type": "conversations_select",
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }, optional=True, hint="Empty: the team's channel."))
    return _modal(CallbackId.CREATE, _KIND_TITLES[kind], blocks, submit="Create",
                  meta=meta.model_dump_json())


def reason_modal(meta: ReasonMeta) -> View:
    """The form a Decline, Reject, Resolve or Block button opens: the reason it needs."""
    label = ACTION_LABELS[meta.verb][0]
    blocks: list[Block] = [
        _input("reason", _REASON_LABEL.get(meta.verb, "Reason"),
               _text_input("", REASON_CHARS, multiline=True)),
    ]
    if meta.verb is Verb.BLOCK:
        blocks.append(_input("on", "Blocked on item", {
            "type": "number_input", "is_decimal_allowed": False, "min_value": "1",
        }, optional=True, hint="The number of the item it waits for, if any."))
    return _modal(CallbackId.REASON, f"{label} #{meta.number}", blocks, submit=label,
                  meta=meta.model_dump_json())


def notice_modal(text: Rich | str, renderer: Renderer) -> View:
    """A modal that only tells something (a refused click from the Home tab)."""
    return _modal(CallbackId.NOTICE, "Baton", renderer.sections(text)[:MAX_VIEW_BLOCKS],
                  close="OK")


def _modal(callback: CallbackId, title: str, blocks: list[Block], *, submit: str = "",
           close: str = "Cancel", meta: str = "") -> View:
    if len(meta) > METADATA_CHARS:
        raise ValueError(f"private_metadata of {len(meta)} characters; Slack allows "
                         f"{METADATA_CHARS}")
    view: View = {"type": "modal", "callback_id": callback.value,
                  "title": plain_text(title, 24), "close": plain_text(close, 24),
                  "blocks": blocks}
    if submit:
        view["submit"] = plain_text(submit, 24)
    if meta:
        view["private_metadata"] = meta
    return view


def home_view(renderer: Renderer, mine: Rich, board_title: str, board: Rich,
              updated: str) -> View:
    """The App Home tab: buttons to raise items, my items and decisions, my team's board."""
    new = [button(f"New {k.value}", f"{NEW_PREFIX}{k.value}", k.value,
                  "primary" if k is Kind.HANDOFF else "default") for k in Kind]
    top: list[Block] = [{"type": "header", "text": plain_text("Baton", 150)},
                        *actions("baton.home.new", new), divider(),
                        section("*My items and decisions*")]
    board_head = [divider(), section(f"*{mrkdwn.escape(board_title)}*")]
    tail = [context(f"Updated {updated} · `/baton help` for every verb")]
    mine_blocks = renderer.sections(mine)
    board_blocks = renderer.sections(board)
    room = MAX_VIEW_BLOCKS - len(top) - len(board_head) - len(tail)
    if len(mine_blocks) + len(board_blocks) > room:
        half = room // 2
        mine_blocks = _fit(mine_blocks, max(half, room - len(board_blocks)), "/baton mine")
        board_blocks = _fit(board_blocks, room - len(mine_blocks), "/baton list")
    return {"type": "home", "blocks": [*top, *mine_blocks, *board_head, *board_blocks, *tail]}


def _fit(blocks: list[Block], room: int, command: str) -> list[Block]:
    if len(blocks) <= room:
        return blocks
    return [*blocks[:room - 1], context(f"…more than fits here: `{command}` shows it all.")]
