"""Uploads belong to a citizen: only linked chats upload, within a quota per citizen.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        # Older uploads have no owner recorded: they count towards no quota, and the
        # unattached ones among them go with the next housekeeping.
        batch.add_column(sa.Column("citizen_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_uploads_citizen_id_citizens"),
            "citizens",
            ["citizen_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(batch.f("ix_uploads_citizen_id"), ["citizen_id"])


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.drop_index(batch.f("ix_uploads_citizen_id"))
        batch.drop_constraint(
            batch.f("fk_uploads_citizen_id_citizens"), type_="foreignkey"
        )
        batch.drop_column("citizen_id")
