"""The CIE's fee as the State sets it: 22,21 € (16,79 € to the State, 5,16 € fixed and 0,26 €
secretarial rights to the comune), 27,37 € for a duplicate; the chat's FAQ already said 22,21 €.

Only a row still carrying the first seed's 22,20 € is changed: a fee the comune set itself stays.

Revision ID: 0013_cie_fee
Revises: 0012_console
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_cie_fee"
down_revision: str | None = "0012_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = (2220, "22,20 € per la prima carta o il rinnovo; 27,70 € per un duplicato dopo smarrimento o furto. Si paga allo sportello.")
NEW = (2221, "22,21 € per la prima carta o il rinnovo; 27,37 € per un duplicato dopo smarrimento o furto. Si paga allo sportello.")

_services = sa.table(
    "counter_services",
    sa.column("code", sa.String()),
    sa.column("fee_cents", sa.Integer()),
    sa.column("fee_note", sa.Text()),
)


def _set(frm: tuple[int, str], to: tuple[int, str]) -> None:
    op.execute(
        _services.update()
        .where(_services.c.fee_cents == frm[0], _services.c.fee_note == frm[1])
        .values(fee_cents=to[0], fee_note=to[1])
    )


def upgrade() -> None:
    _set(OLD, NEW)


def downgrade() -> None:
    _set(NEW, OLD)
