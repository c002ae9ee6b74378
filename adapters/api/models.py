"""The API's bodies as pydantic models: they validate requests and, through their JSON Schema,
make the OpenAPI document (adapters.api.openapi), so the two cannot disagree."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from bot.items import Kind, Outcome, Policy, Priority, State

MAX_METADATA = 16_384  # bytes of caller metadata, as JSON

Handle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254),
                   Field(description="A person: their handle (`alice` or `@alice`) or e-mail.",
                         examples=["@alice"])]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _policy(text: str) -> str:
    return str(Policy.parse(text))  # ValueError names what is wrong


def _metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, separators=(",", ":"))) > MAX_METADATA:
        raise ValueError(f"metadata is larger than {MAX_METADATA} bytes as JSON")
    return value


def _callback(url: str) -> str:
    """A URL Baton may post to: http or https, a host, and no credentials in it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("a callback URL must be http or https")
    if not parts.hostname:
        raise ValueError("a callback URL needs a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a callback URL must not carry credentials; Baton signs each delivery "
                         "instead (see the README)")
    if parts.fragment:
        raise ValueError("a callback URL must not have a #fragment")
    return url


CallbackUrl = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000),
                        AfterValidator(_callback),
                        Field(description="Where Baton posts this item's signed events "
                                          "(http or https, no credentials).",
                              examples=["https://ci.example.com/hooks/baton"])]
PolicyText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20),
                       AfterValidator(_policy),
                       Field(description="How decisions combine: `any` (first decision wins), "
                                         "`all`, `quorum:N` or `sequence` (in the order "
                                         "listed).", examples=["any"])]
Metadata = Annotated[dict[str, Any], AfterValidator(_metadata),
                     Field(description="Anything the caller wants back unchanged with the "
                                       "item (at most 16 KiB as JSON).",
                           examples=[{"pipeline": "release-42", "commit": "9f3c2ab"}])]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Link(_Body):
    url: Annotated[str, StringConstraints(max_length=2000), AfterValidator(_callback)] = Field(
        description="An http(s) address: a CI run, a pull request, a dashboard.")
    title: Annotated[str, StringConstraints(max_length=200)] = ""


class _NewItem(_Body):
    title: Title = Field(description="What needs doing or deciding, in one line.")
    details: Annotated[str, StringConstraints(max_length=4000)] = Field(
        "", description="More context for the people who act on it.")
    priority: Priority = Priority.NORMAL
    due: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="When it is due: an RFC 3339 time with offset "
                          "(`2026-12-01T17:00:00Z`) or as typed in chat (`4h`, `2d`, "
                          "`fri 17:00`), read in the requester's time zone.",
        examples=["4h"])
    links: list[Link] = Field(default_factory=list, max_length=20, description=(
        "Related addresses; the first is shown on the card as the item's source."))
    metadata: Metadata = Field(default_factory=dict)
    callback_url: CallbackUrl | None = None


class NewHandoff(_NewItem):
    """Hand work to a person, or to a team's queue."""

    kind: Literal["handoff"]
    to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                         max_length=254)] = Field(
        description="The receiver: a person (`@bob`, `bob@example.com`) or a team queue "
                    "(`#ml-platform`).", examples=["@bob"])


class NewException(_NewItem):
    """Raise a case that needs a person's judgment, in a team's triage queue."""

    kind: Literal["exception"]
    team: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        None, description="The team whose queue it lands in; default: the token's team.")
    owner: Handle | None = None


class NewApproval(_NewItem):
    """Ask named people for a decision under a policy."""

    kind: Literal["approval"]
    approvers: list[Handle] = Field(min_length=1, max_length=20)
    policy: PolicyText = "any"
    team: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        None, description="The team it belongs to; default: the token's team.")


NewItem = Annotated[NewHandoff | NewException | NewApproval, Field(discriminator="kind")]


class Comment(_Body):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=4000)]


class Cancel(_Body):
    reason: Annotated[str, StringConstraints(max_length=1000)] = ""


class Approve(_Body):
    comment: Annotated[str, StringConstraints(max_length=1000)] = Field(
        "", description="Anything the requester should know.")


class Reject(_Body):
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=1000)] = Field(
        description="Why: a rejection always gives its reason.")


class NewWebhook(_Body):
    url: CallbackUrl
    item: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = Field(
        None, description="Only this item's events; default: every item the token may see.")


class DecisionOut(BaseModel):
    approver: str
    verdict: Literal["approve", "reject"]
    comment: str
    at: datetime
    by: str = Field(description="Who decided: the approver, or their delegate.")


class Change(BaseModel):
    before: Any = None
    after: Any = None


class TrailEvent(BaseModel):
    seq: int
    at: datetime
    actor: str
    via: str | None = Field(None, description="The API client or agent that acted for `actor`.")
    action: str
    surface: str
    note: str = ""
    changes: dict[str, Change] = Field(default_factory=dict)


class ItemOut(BaseModel):
    id: int = Field(description="The item's number in its workspace (shown as #42).")
    kind: Kind
    title: str
    details: str
    team: str
    requester: str
    via: str | None = Field(None, description="The API client or agent that raised it.")
    owner: str | None
    approvers: list[str]
    policy: str | None
    decisions: list[DecisionOut]
    pending_approvers: list[str]
    priority: Priority
    state: State
    outcome: Outcome | None
    final: bool = Field(description="Done or cancelled: it will not change state again.")
    due_at: datetime | None
    ack_deadline: datetime | None
    resolve_deadline: datetime | None
    blocked_reason: str
    blocked_on: int | None
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Grows with every change of the item.")
    links: list[Link] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    trail: list[TrailEvent] | None = Field(None, description="Every change, oldest first "
                                                             "(on GET of one item).")


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; "
                                                      "null on the last one.")


class WebhookOut(BaseModel):
    id: int
    url: str
    item: int | None
    created_at: datetime | None


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, in words and in fields."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[dict[str, Any]] | None = Field(None, description="Each bad field (422).")
