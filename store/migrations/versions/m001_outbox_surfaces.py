"""Messages name their audience and are kept once per delivering surface: the outbox gains
`surface`, `action` (what happened) and `origin` (where the item was raised),
the people a surface met are kept in `accounts`, the old deliveries `dm` and `channel` read as the audiences `person`
and `team`, and the unposted-cards index is per surface.

Revision ID: m001
Revises: o001
Create Date: 2026-12-02 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m001"
down_revision: str | None = "o001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNPOSTED_CARD = "delivery = 'card' AND state = 'pending'"


def upgrade() -> None:
    op.add_column("outbox", sa.Column("surface", sa.String(32), nullable=False,
                                      server_default=""))
    op.add_column("outbox", sa.Column("action", sa.String(32), nullable=False,
                                      server_default=""))
    op.add_column("outbox", sa.Column("origin", sa.String(255), nullable=False,
                                      server_default=""))
    op.execute("UPDATE outbox SET delivery = 'person' WHERE delivery = 'dm'")
    op.execute("UPDATE outbox SET delivery = 'team' WHERE delivery = 'channel'")
    op.drop_index("ix_outbox_unposted_cards", table_name="outbox")
    op.create_index("ix_outbox_unposted_cards", "outbox", ["workspace", "surface", "item", "id"],
                    sqlite_where=sa.text(UNPOSTED_CARD),
                    postgresql_where=sa.text(UNPOSTED_CARD))
    op.create_table(
        "accounts",
        sa.Column("surface", sa.String(32), primary_key=True),
        sa.Column("account", sa.String(255), primary_key=True),
        sa.Column("person", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        sa.Column("email", sa.String(255), nullable=False, server_default=""),
        sa.Column("time_zone", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_accounts_email", "accounts", ["email"])


def downgrade() -> None:
    op.drop_index("ix_accounts_email", table_name="accounts")
    op.drop_table("accounts")
    op.drop_index("ix_outbox_unposted_cards", table_name="outbox")
    op.create_index("ix_outbox_unposted_cards", "outbox", ["workspace", "item", "id"],
                    sqlite_where=sa.text(UNPOSTED_CARD),
                    postgresql_where=sa.text(UNPOSTED_CARD))
    op.execute("UPDATE outbox SET delivery = 'dm' WHERE delivery = 'person'")
    op.execute("UPDATE outbox SET delivery = 'channel' WHERE delivery = 'team'")
    op.drop_column("outbox", "origin")
    op.drop_column("outbox", "action")
    op.drop_column("outbox", "surface")
