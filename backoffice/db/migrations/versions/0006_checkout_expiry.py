"""Checkout links expire: each notice's link has an end, renewed when the notice is asked again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported: the links handed out before this migration work one more day.
GRACE = timedelta(hours=24)


def upgrade() -> None:
    with op.batch_alter_table("payment_notices") as batch:
        batch.add_column(
            sa.Column("checkout_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
    notices = sa.table(
        "payment_notices", sa.column("checkout_expires_at", sa.DateTime(timezone=True))
    )
    op.execute(
        notices.update().values(checkout_expires_at=datetime.now(UTC) + GRACE)
    )


def downgrade() -> None:
    with op.batch_alter_table("payment_notices") as batch:
        batch.drop_column("checkout_expires_at")
