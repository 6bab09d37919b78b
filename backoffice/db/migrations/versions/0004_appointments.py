"""Counter appointments: bookings, what to bring and what it costs, the CIE counter.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from models or seed: a migration must not change
# when they change later.
APPOINTMENT_STATUSES = "'prenotato', 'annullato', 'completato'"
LIVE = sa.text("status = 'prenotato'")
REQUIREMENTS: dict[str, list[str]] = {
    "anagrafe": [
        "un documento d'identità valido",
        "la tessera sanitaria (codice fiscale)",
    ],
    "tributi": [
        "un documento d'identità",
        "l'avviso di pagamento o la lettera del Comune, se ce l'hai",
    ],
    "ufficio_tecnico": [
        "un documento d'identità",
        "il numero di protocollo della pratica, se c'è già",
        "gli elaborati o i documenti di cui vuoi parlare",
    ],
    "protocollo": [
        "un documento d'identità",
        "i documenti da protocollare, firmati",
        "una copia in più, se vuoi la ricevuta timbrata",
    ],
}
_HOURS = sorted(
    [{"weekday": day, "opens": "08:30", "closes": "12:30"} for day in range(5)]
    + [{"weekday": day, "opens": "15:00", "closes": "17:00"} for day in (1, 3)],
    key=lambda hours: (hours["weekday"], hours["opens"]),
)
CIE = {
    "code": "cie",
    "name": "Carta d'identità elettronica",
    "description": "Richiesta della carta d'identità elettronica (CIE): prima carta, rinnovo, "
    "duplicato dopo smarrimento o furto. Deve venire la persona a cui è intestata.",
    "location": "Piazza Risorgimento 1, piano terra (Anagrafe, sportello CIE) – Cerveteri",
    "slot_minutes": 20,
    "desks": 2,
    "opening_hours": _HOURS,
    "requirements": [
        "una fototessera recente",
        "la carta d'identità scaduta o, se l'hai persa o te l'hanno rubata, la denuncia di "
        "smarrimento o furto",
        "la tessera sanitaria",
    ],
    "fee_cents": 2220,
    "fee_note": "22,20 € per la prima carta o il rinnovo; 27,70 € per un duplicato dopo "
    "smarrimento o furto. Si paga allo sportello.",
}


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


_services = sa.table(
    "counter_services",
    sa.column("id", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("description", sa.Text()),
    sa.column("location", sa.String()),
    sa.column("slot_minutes", sa.Integer()),
    sa.column("desks", sa.Integer()),
    sa.column("opening_hours", _json()),
    sa.column("requirements", _json()),
    sa.column("fee_cents", sa.Integer()),
    sa.column("fee_note", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("counter_services") as batch:
        batch.add_column(
            sa.Column(
                "requirements", _json(), server_default=sa.text("'[]'"), nullable=False
            )
        )
        batch.add_column(sa.Column("fee_cents", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fee_note", sa.Text(), nullable=True))

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", _timestamp(), nullable=False),
        sa.Column("desk", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.Column("reminded_at", _timestamp(), nullable=True),
        sa.CheckConstraint(
            f"status IN ({APPOINTMENT_STATUSES})", name=op.f("ck_appointments_status")
        ),
        sa.CheckConstraint(
            "(status = 'annullato' AND desk IS NULL)"
            " OR (status <> 'annullato' AND desk >= 1)",
            name=op.f("ck_appointments_desk"),
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_appointments_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["counter_services.id"],
            name=op.f("fk_appointments_service_id_counter_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("code", name=op.f("uq_appointments_code")),
        sa.UniqueConstraint(
            "service_id", "starts_at", "desk", name="uq_appointments_slot_desk"
        ),
    )
    op.create_index(op.f("ix_appointments_citizen_id"), "appointments", ["citizen_id"])
    op.create_index(op.f("ix_appointments_service_id"), "appointments", ["service_id"])
    op.create_index(op.f("ix_appointments_starts_at"), "appointments", ["starts_at"])
    op.create_index(
        "uq_appointments_citizen_live",
        "appointments",
        ["citizen_id", "service_id", "starts_at"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )

    bind = op.get_bind()
    for code, requirements in REQUIREMENTS.items():
        bind.execute(
            _services.update()
            .where(_services.c.code == code)
            .values(requirements=requirements)
        )
    # A database already holding the demo counters gets the CIE one too; an empty one is
    # seeded with it after migrating.
    codes = set(bind.execute(sa.select(_services.c.code)).scalars())
    if codes and "cie" not in codes:
        bind.execute(_services.insert().values(**CIE))


def downgrade() -> None:
    op.drop_index("uq_appointments_citizen_live", table_name="appointments")
    op.drop_index(op.f("ix_appointments_starts_at"), table_name="appointments")
    op.drop_index(op.f("ix_appointments_service_id"), table_name="appointments")
    op.drop_index(op.f("ix_appointments_citizen_id"), table_name="appointments")
    op.drop_table("appointments")
    op.execute("DELETE FROM counter_services WHERE code = 'cie'")
    with op.batch_alter_table("counter_services") as batch:
        batch.drop_column("fee_note")
        batch.drop_column("fee_cents")
        batch.drop_column("requirements")
