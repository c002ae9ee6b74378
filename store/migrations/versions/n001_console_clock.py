"""The console's clock: how far `:time` has moved it ahead of real time, per workspace.

Revision ID: n001
Revises: o001
Create Date: 2026-12-02 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "n001"
down_revision: str | None = "o001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_clock",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("ahead_seconds", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_clock")
