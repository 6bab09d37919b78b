"""Households: each citizen's famiglia anagrafica, which stato di famiglia lists.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

The certificate used to list everyone with the same address text: two families in one
building were one, and one family with its address spelled two ways was two. Citizens
already stored get no household here (only the anagrafe knows it): until it is loaded,
their stato di famiglia is refused with a word to ask at the desk, never printed wrong.
Only the demo citizens of a development database get the families the seed gives them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported from seed.py: a migration must not change when the seed does.
DEMO_HOUSEHOLDS = {
    "RSSMRA50C12C552D": "F-000101",
    "BNCGLI85L64C552A": "F-000102",
    "SPSNNA72S45C552P": "F-000103",
}


def upgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.add_column(sa.Column("household_id", sa.String(length=32), nullable=True))
        batch.create_index(batch.f("ix_citizens_household_id"), ["household_id"])
    citizens = sa.table(
        "citizens", sa.column("fiscal_code", sa.String()), sa.column("household_id", sa.String())
    )
    for fiscal_code, household_id in DEMO_HOUSEHOLDS.items():
        op.execute(
            citizens.update()
            .where(citizens.c.fiscal_code == fiscal_code)
            .values(household_id=household_id)
        )


def downgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.drop_index(batch.f("ix_citizens_household_id"))
        batch.drop_column("household_id")
