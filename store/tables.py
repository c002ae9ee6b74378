"""The database schema: one declarative class per table, generic types only.

Every instant is stored in UTC and read back timezone-aware, on SQLite too. Enumerations are
stored as their text values (no database enum types), so adding a value needs no migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import TypeDecorator

from bot.messages import Audience

# Names for constraints, so migrations on every dialect refer to them the same way.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; naive values are refused rather than guessed at."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: Baton stores aware instants only")
        utc = value.astimezone(UTC)
        # SQLite keeps no offset: store the UTC wall time, so text order is time order.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(), dict[str, Any]: JSON(),
    }


class WorkspaceRow(Base):
    """Per-workspace counter and audit chain head; its row lock serializes both."""

    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class ItemRow(Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("workspace", "number"),
        Index("ix_items_owner", "workspace", "owner", "state"),
        Index("ix_items_requester", "workspace", "requester", "state"),
        Index("ix_items_team", "workspace", "team", "state"),
        Index("ix_items_blocked_on", "workspace", "blocked_on"),
        # "what falls due next": each deadline column, per workspace and state.
        Index("ix_items_due", "workspace", "state", "due_at"),
        Index("ix_items_resolve", "workspace", "state", "resolve_deadline"),
        # The follow-up sweep reads only what is due: next_followup_at <= now, soonest first.
        Index("ix_items_followup", "workspace", "next_followup_at"),
        # The weekly digest's aggregates: what a team raised, acknowledged and closed when.
        Index("ix_items_team_created", "workspace", "team", "created_at"),
        Index("ix_items_team_acked", "workspace", "team", "acked_at"),
        Index("ix_items_team_closed", "workspace", "team", "closed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text, default="")
    team: Mapped[str] = mapped_column(String(128))
    requester: Mapped[str] = mapped_column(String(128))
    owner: Mapped[str | None] = mapped_column(String(128))
    policy: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    ack_deadline: Mapped[datetime | None]
    resolve_deadline: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    blocked_reason: Mapped[str] = mapped_column(Text, default="")
    blocked_on: Mapped[int | None] = mapped_column(Integer)
    resume_state: Mapped[str | None] = mapped_column(String(16))
    snoozed_until: Mapped[datetime | None]
    blocked_since: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    next_followup_at: Mapped[datetime | None]
    ack_stage: Mapped[int] = mapped_column(Integer, default=0)
    resolve_stage: Mapped[int] = mapped_column(Integer, default=0)
    stalls: Mapped[int] = mapped_column(Integer, default=0)
    watchers: Mapped[list[str]] = mapped_column(JSON)
    source_surface: Mapped[str] = mapped_column(String(32))
    source_channel: Mapped[str] = mapped_column(String(255), default="")
    source_message: Mapped[str] = mapped_column(String(255), default="")
    source_permalink: Mapped[str] = mapped_column(Text, default="")
    source_via: Mapped[str] = mapped_column(String(128), default="")  # an API client, an agent
    parent: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=0)


class ApproverRow(Base):
    """An approver named on an approval, in the order named (the order `sequence` uses)."""

    __tablename__ = "approvers"
    __table_args__ = (
        UniqueConstraint("item_id", "person"),
        # "approvals waiting on X": find X's rows, then the item by primary key.
        Index("ix_approvers_person", "person", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    person: Mapped[str] = mapped_column(String(128))


class DecisionRow(Base):
    """A decision, in the order made; `by` is the delegate when one decided for the approver."""

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_item", "item_id", "approver"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    approver: Mapped[str] = mapped_column(String(128))
    verdict: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(128))


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("workspace", "seq"),
        Index("ix_events_item", "workspace", "item"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    item: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    surface: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any]]
    after: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OutboxRow(Base):
    """A message waiting for (or done with) delivery on one surface. `key` (the message's key
    and the surface, `<key>@<surface>`) is unique within its workspace."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("workspace", "key"),
        Index("ix_outbox_ready", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    surface: Mapped[str] = mapped_column(String(32), default="", server_default="")
    delivery: Mapped[str] = mapped_column(String(16))  # the audience: person, team, card…
    to: Mapped[str] = mapped_column(String(255))
    item: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    card: Mapped[dict[str, Any] | None]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]
    attachment: Mapped[str | None] = mapped_column(Text)  # a file to upload with the text
    # The worker holding the lease. Still set when a row is claimed again: the last attempt
    # ended without a recorded outcome (a crash), so the platform may already have it.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32), default="", server_default="")
    origin: Mapped[str] = mapped_column(String(255), default="", server_default="")
    event: Mapped[int | None] = mapped_column(Integer)  # the seq of the event that caused it


def unposted_card(outbox: Any) -> ColumnElement[bool]:
    """An outbox row (of `outbox`, the table's class or an alias of it) that is a new card not
    yet posted, sent or parked. In literals, so the partial index below serves the query."""
    return and_(outbox.delivery == literal_column(f"'{Audience.CARD.value}'"),
                outbox.state == literal_column("'pending'"))


# New cards not yet posted: an item's thread lines and updates wait behind its card.
Index("ix_outbox_unposted_cards", OutboxRow.workspace, OutboxRow.surface, OutboxRow.item,
      OutboxRow.id,
      sqlite_where=unposted_card(OutboxRow), postgresql_where=unposted_card(OutboxRow))


class AbsenceRow(Base):
    __tablename__ = "absences"
    __table_args__ = (
        Index("ix_absences_delegate", "workspace", "delegate"),
        Index("ix_absences_until", "until"),
    )

    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(128), primary_key=True)
    since: Mapped[datetime]
    until: Mapped[datetime | None]
    delegate: Mapped[str | None] = mapped_column(String(128))


class CardPostRow(Base):
    """Where each surface posted an item's card (channel and message id), to update it."""

    __tablename__ = "card_posts"
    __table_args__ = (
        UniqueConstraint("workspace", "item", "surface", "channel", "ref"),
        Index("ix_card_posts_item", "workspace", "item", "surface"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    item: Mapped[int] = mapped_column(Integer)
    surface: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(255))
    ref: Mapped[str] = mapped_column(String(255))


class SeenKeyRow(Base):
    """Keys of platform deliveries already acted on (retries de-duplicated), until expiry."""

    __tablename__ = "seen_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class FollowupRow(Base):
    """A follow-up done once: a reminder, breach, escalation step or nudge of one item and
    target, or a scheduled digest (item 0). The unique key is the claim: of several replicas
    (or a restart) racing for the same step, exactly one inserts the row and does the work."""

    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("workspace", "item", "target", "step"),
        Index("ix_followups_kind", "workspace", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    item: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(160))
    step: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]


class ConsoleClockRow(Base):
    """How far `:time` has moved the console's clock ahead of real time, kept with the data
    it stamped, so a console started again goes on from there (never back before it)."""

    __tablename__ = "console_clock"

    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    ahead_seconds: Mapped[int] = mapped_column(Integer)


# --- the API's records (bot.clients) ------------------------------------------------------


class ApiTokenRow(Base):
    """An API client's token: only its SHA-256 is kept (a token carries 256 random bits, so
    a fast hash is as safe as a slow one), with its first characters to tell it apart."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_name", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    owner: Mapped[str | None] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    signing_secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApiRequestRow(Base):
    """An item raised through the API, written before the item exists (its source message is
    this row's id): the caller's metadata, links and callback, and its Idempotency-Key."""

    __tablename__ = "api_requests"
    __table_args__ = (
        UniqueConstraint("client_id", "idem_key"),
        Index("ix_api_requests_item", "workspace", "item"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    workspace: Mapped[str] = mapped_column(String(64))
    idem_key: Mapped[str | None] = mapped_column(String(255))
    body_hash: Mapped[str] = mapped_column(String(64))
    item: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer, default=0)
    meta: Mapped[dict[str, Any] | None]
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    callback_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class WebhookRow(Base):
    """A callback URL hearing a client's item events: all it may see, or one item's."""

    __tablename__ = "api_webhooks"
    __table_args__ = (Index("ix_api_webhooks_item", "workspace", "item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"),
                                           index=True)
    workspace: Mapped[str] = mapped_column(String(64))
    item: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class WebhookReceiptRow(Base):
    """What one receiver answered to one webhook delivery (`webhook-id`): accepted (2xx) or
    refused for good (another 4xx). A retried outbox row posts only to receivers without one.
    `receiver` is a digest of the client and the URL."""

    __tablename__ = "api_webhook_receipts"

    webhook_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    receiver: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[int] = mapped_column(Integer)
    refused: Mapped[bool]
    at: Mapped[datetime]


class AccountRow(Base):
    """A surface's user matched to a Baton person (bot.accounts)."""

    __tablename__ = "accounts"
    __table_args__ = (Index("ix_accounts_email", "email"),)

    surface: Mapped[str] = mapped_column(String(32), primary_key=True)
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    person: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")  # folded to lower case
    time_zone: Mapped[str] = mapped_column(String(64), default="")



class ConversationRow(Base):
    """A conversation a surface may post in later (bot.conversations)."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_account", "surface", "account"),
                      Index("ix_conversations_tenant", "surface", "tenant", "updated_at"))

    surface: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(255), default="")
    tenant: Mapped[str] = mapped_column(String(64), default="")
    team: Mapped[str] = mapped_column(String(255), default="")
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
