"""Follow-ups: SLA progress on items (with the sweep's index), the followups claim table, and
the outbox's attachment and lease holder.

Existing open items get `next_followup_at = updated_at`, so the first sweep after the upgrade
visits each once and works out its real schedule; finished items get `closed_at = updated_at`.

Revision ID: j001
Revises: 0002
Create Date: 2026-11-23 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "j001"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    with op.batch_alter_table("items") as items:
        items.add_column(_when("blocked_since"))
        items.add_column(_when("closed_at"))
        items.add_column(_when("next_followup_at"))
        items.add_column(_count("ack_stage"))
        items.add_column(_count("resolve_stage"))
        items.add_column(_count("stalls"))
    op.execute("UPDATE items SET closed_at = updated_at WHERE state IN ('done', 'cancelled')")
    op.execute("UPDATE items SET next_followup_at = updated_at "
               "WHERE state NOT IN ('done', 'cancelled')")
    op.create_index("ix_items_followup", "items", ["workspace", "next_followup_at"])
    op.create_index("ix_items_team_created", "items", ["workspace", "team", "created_at"])
    op.create_index("ix_items_team_acked", "items", ["workspace", "team", "acked_at"])
    op.create_index("ix_items_team_closed", "items", ["workspace", "team", "closed_at"])

    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("attachment", sa.Text(), nullable=True))
        outbox.add_column(sa.Column("claimed_by", sa.String(128), nullable=True))

    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(160), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("team", sa.String(128), nullable=False),
        _when("at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_followups"),
        sa.UniqueConstraint("workspace", "item", "target", "step",
                            name="uq_followups_workspace_item_target_step"),
    )
    op.create_index("ix_followups_kind", "followups", ["workspace", "kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_followups_kind", table_name="followups")
    op.drop_table("followups")
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("claimed_by")
        outbox.drop_column("attachment")
    for index in ("ix_items_team_closed", "ix_items_team_acked", "ix_items_team_created",
                  "ix_items_followup"):
        op.drop_index(index, table_name="items")
    with op.batch_alter_table("items") as items:
        for column in ("stalls", "resolve_stage", "ack_stage", "next_followup_at", "closed_at",
                       "blocked_since"):
            items.drop_column(column)
