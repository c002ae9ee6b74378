"""The outbox's unposted cards: a partial index of the new cards not yet posted, so a claim
can leave an item's thread lines and card updates behind its card (they would otherwise find
no card to reply under or update).

Revision ID: o001
Revises: j001
Create Date: 2026-11-24 00:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "o001"
down_revision: str | None = "j001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNPOSTED_CARD = "delivery = 'card' AND state = 'pending'"


def upgrade() -> None:
    op.create_index("ix_outbox_unposted_cards", "outbox", ["workspace", "item", "id"],
                    sqlite_where=sa.text(UNPOSTED_CARD),
                    postgresql_where=sa.text(UNPOSTED_CARD))


def downgrade() -> None:
    op.drop_index("ix_outbox_unposted_cards", table_name="outbox")
