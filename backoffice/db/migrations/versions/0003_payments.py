"""pagoPA payments: notices and receipts, reminders of due dates and the citizen's choice.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.add_column(
            sa.Column(
                "tax_reminders",
                sa.Boolean(),
                server_default=sa.true(),
                nullable=False,
            )
        )
    with op.batch_alter_table("tax_positions") as batch:
        batch.add_column(sa.Column("reminded_at", _timestamp(), nullable=True))

    op.create_table(
        "payment_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("notice_number", sa.String(length=18), nullable=False),
        sa.Column("payee_fiscal_code", sa.String(length=11), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("checkout_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["tax_positions.id"],
            name=op.f("fk_payment_notices_position_id_tax_positions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_notices")),
        sa.UniqueConstraint("position_id", name=op.f("uq_payment_notices_position_id")),
        sa.UniqueConstraint(
            "notice_number", name=op.f("uq_payment_notices_notice_number")
        ),
        sa.UniqueConstraint(
            "checkout_token", name=op.f("uq_payment_notices_checkout_token")
        ),
    )
    op.create_table(
        "payment_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("receipt_number", sa.String(length=35), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("paid_at", _timestamp(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["payment_notices.id"],
            name=op.f("fk_payment_receipts_notice_id_payment_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_receipts")),
        sa.UniqueConstraint("notice_id", name=op.f("uq_payment_receipts_notice_id")),
        sa.UniqueConstraint(
            "receipt_number", name=op.f("uq_payment_receipts_receipt_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("payment_receipts")
    op.drop_table("payment_notices")
    with op.batch_alter_table("tax_positions") as batch:
        batch.drop_column("reminded_at")
    with op.batch_alter_table("citizens") as batch:
        batch.drop_column("tax_reminders")
