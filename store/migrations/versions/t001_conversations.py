"""Conversations a surface may post in later (Teams' conversation references).

Revision ID: t001
Revises: m001
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t001"
down_revision: str | None = "m001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("surface", sa.String(32), nullable=False),
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("account", sa.String(255), nullable=False, server_default=""),
        sa.Column("tenant", sa.String(64), nullable=False, server_default=""),
        sa.Column("team", sa.String(255), nullable=False, server_default=""),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("surface", "id", name="pk_conversations"),
    )
    op.create_index("ix_conversations_account", "conversations", ["surface", "account"])
    op.create_index("ix_conversations_tenant", "conversations",
                    ["surface", "tenant", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_conversations_tenant", table_name="conversations")
    op.drop_index("ix_conversations_account", table_name="conversations")
    op.drop_table("conversations")
