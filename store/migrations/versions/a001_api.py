"""The API: clients' tokens, the requests that raised items, webhook subscriptions, and the
system (an API client, an agent) that raised an item.

Revision ID: a001
Revises: s001
Create Date: 2026-11-25 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "a001"
down_revision: str | None = "s001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("source_via", sa.String(128), nullable=False,
                                   server_default=""))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("team", sa.String(128), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(128)),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("signing_secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_name", "api_tokens", ["name"])
    op.create_table(
        "api_requests",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("idem_key", sa.String(255)),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("item", sa.Integer()),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("meta", sa.JSON()),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("callback_url", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_requests"),
        sa.ForeignKeyConstraint(["client_id"], ["api_tokens.id"], ondelete="CASCADE",
                                name="fk_api_requests_client_id_api_tokens"),
        sa.UniqueConstraint("client_id", "idem_key", name="uq_api_requests_client_id_idem_key"),
    )
    op.create_index("ix_api_requests_item", "api_requests", ["workspace", "item"])
    op.create_table(
        "api_webhooks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("item", sa.Integer()),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_webhooks"),
        sa.ForeignKeyConstraint(["client_id"], ["api_tokens.id"], ondelete="CASCADE",
                                name="fk_api_webhooks_client_id_api_tokens"),
    )
    op.create_index("ix_api_webhooks_client_id", "api_webhooks", ["client_id"])
    op.create_index("ix_api_webhooks_item", "api_webhooks", ["workspace", "item"])


def downgrade() -> None:
    op.drop_table("api_webhooks")
    op.drop_table("api_requests")
    op.drop_table("api_tokens")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("source_via")
