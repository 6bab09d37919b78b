"""The desk status of a booking: presente (checked in) and non_presentato (never came).

Revision ID: 0011_appointment_status
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011_appointment_status"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from models: a migration must not change later.
OLD_STATUSES = "'prenotato', 'annullato', 'completato'"
NEW_STATUSES = "'prenotato', 'annullato', 'presente', 'completato', 'non_presentato'"


def _status_check(statuses: str) -> None:
    # SQLite cannot alter a CHECK constraint: batch mode copies the table with the new one.
    with op.batch_alter_table("appointments", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_appointments_status"), type_="check")
        batch.create_check_constraint(op.f("ck_appointments_status"), f"status IN ({statuses})")


def upgrade() -> None:
    _status_check(NEW_STATUSES)


def downgrade() -> None:
    # The old lifecycle has no check-in and no absence: a checked-in booking is booked again,
    # an absent one cancelled (its desk given back, as a cancellation does).
    op.execute("UPDATE appointments SET status = 'prenotato' WHERE status = 'presente'")
    op.execute("UPDATE appointments SET status = 'annullato', desk = NULL WHERE status = 'non_presentato'")
    _status_check(OLD_STATUSES)
