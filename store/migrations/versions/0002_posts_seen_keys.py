"""Card posts (where each surface showed an item's card) and seen keys (retry de-duplication).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "card_posts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("surface", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("ref", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_card_posts"),
        sa.UniqueConstraint("workspace", "item", "surface", "channel", "ref",
                            name="uq_card_posts_workspace_item_surface_channel_ref"),
    )
    op.create_index("ix_card_posts_item", "card_posts", ["workspace", "item", "surface"])
    op.create_table(
        "seen_keys",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_seen_keys"),
    )
    op.create_index("ix_seen_keys_expires_at", "seen_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_keys_expires_at", table_name="seen_keys")
    op.drop_table("seen_keys")
    op.drop_index("ix_card_posts_item", table_name="card_posts")
    op.drop_table("card_posts")
