"""The initial schema: workspaces, items with approvers and decisions, events, outbox, absences.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True, **kwargs: object) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, **kwargs)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
    )

    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("team", sa.String(128), nullable=False),
        sa.Column("requester", sa.String(128), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("policy", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        _when("due_at"),
        _when("ack_deadline"),
        _when("resolve_deadline"),
        _when("acked_at"),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("blocked_reason", sa.Text(), nullable=False),
        sa.Column("blocked_on", sa.Integer(), nullable=True),
        sa.Column("resume_state", sa.String(16), nullable=True),
        _when("snoozed_until"),
        sa.Column("watchers", sa.JSON(), nullable=False),
        sa.Column("source_surface", sa.String(32), nullable=False),
        sa.Column("source_channel", sa.String(255), nullable=False),
        sa.Column("source_message", sa.String(255), nullable=False),
        sa.Column("source_permalink", sa.Text(), nullable=False),
        sa.Column("parent", sa.Integer(), nullable=True),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("workspace", "number", name="uq_items_workspace_number"),
    )
    op.create_index("ix_items_owner", "items", ["workspace", "owner", "state"])
    op.create_index("ix_items_requester", "items", ["workspace", "requester", "state"])
    op.create_index("ix_items_team", "items", ["workspace", "team", "state"])
    op.create_index("ix_items_blocked_on", "items", ["workspace", "blocked_on"])
    op.create_index("ix_items_due", "items", ["workspace", "state", "due_at"])
    op.create_index("ix_items_resolve", "items", ["workspace", "state", "resolve_deadline"])

    op.create_table(
        "approvers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approvers"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE",
                                name="fk_approvers_item_id_items"),
        sa.UniqueConstraint("item_id", "person", name="uq_approvers_item_id_person"),
    )
    op.create_index("ix_approvers_person", "approvers", ["person", "item_id"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(128), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _when("at", nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE",
                                name="fk_decisions_item_id_items"),
    )
    op.create_index("ix_decisions_item", "decisions", ["item_id", "approver"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("item", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        _when("at", nullable=False),
        sa.Column("surface", sa.String(32), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("workspace", "seq", name="uq_events_workspace_seq"),
    )
    op.create_index("ix_events_item", "events", ["workspace", "item"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("to", sa.String(255), nullable=False),
        sa.Column("item", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=False),
        _when("created_at", nullable=False, server_default=sa.func.now()),
        _when("sent_at"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("workspace", "key", name="uq_outbox_workspace_key"),
    )
    op.create_index("ix_outbox_ready", "outbox", ["state", "next_attempt_at"])

    op.create_table(
        "absences",
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("person", sa.String(128), nullable=False),
        _when("since", nullable=False),
        _when("until"),
        sa.Column("delegate", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("workspace", "person", name="pk_absences"),
    )
    op.create_index("ix_absences_delegate", "absences", ["workspace", "delegate"])
    op.create_index("ix_absences_until", "absences", ["until"])


def downgrade() -> None:
    for table in ("absences", "outbox", "events", "decisions", "approvers", "items",
                  "workspaces"):
        op.drop_table(table)
