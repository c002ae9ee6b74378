"""Webhooks delivered through the outbox: each outbox row names the audit event that caused it
(`event`, its seq), and what each receiver answered to each delivery is kept
(`api_webhook_receipts`), so a retried row posts only to receivers still owed it.

Revision ID: w001
Revises: m001
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "w001"
down_revision: str | None = "m001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("event", sa.Integer()))
    op.create_table(
        "api_webhook_receipts",
        sa.Column("webhook_id", sa.String(255), nullable=False),
        sa.Column("receiver", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id", "receiver", name="pk_api_webhook_receipts"),
    )


def downgrade() -> None:
    op.drop_table("api_webhook_receipts")
    op.drop_column("outbox", "event")
