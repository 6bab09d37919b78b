"""Initial schema: citizens, channel links, pratiche, taxes, counter services, event feed.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from models: a migration must not change
# when the models change later.
PRACTICE_STATUSES = (
    "'bozza', 'presentata', 'in_istruttoria', 'integrazione_richiesta', "
    "'accolta', 'respinta', 'archiviata'"
)
TAX_STATUSES = "'da_pagare', 'scaduto', 'pagato'"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "citizens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_code", sa.String(length=16), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizens")),
        sa.UniqueConstraint("fiscal_code", name=op.f("uq_citizens_fiscal_code")),
    )
    op.create_table(
        "counter_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("desks", sa.Integer(), nullable=False),
        sa.Column("opening_hours", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_services")),
        sa.UniqueConstraint("code", name=op.f("uq_counter_services_code")),
    )
    op.create_table(
        "practice_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("fields", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_types")),
        sa.UniqueConstraint("code", name=op.f("uq_practice_types_code")),
    )
    op.create_table(
        "channel_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("channel_user_id", sa.String(length=64), nullable=False),
        sa.Column("linked_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_channel_links_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_links")),
        sa.UniqueConstraint(
            "channel", "channel_user_id", name="uq_channel_links_channel_user"
        ),
    )
    op.create_index(
        op.f("ix_channel_links_citizen_id"), "channel_links", ["citizen_id"]
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_events_citizen_id_citizens"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_events_citizen_id"), "events", ["citizen_id"])
    op.create_table(
        "practices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_year", sa.Integer(), nullable=True),
        sa.Column("protocol_number", sa.Integer(), nullable=True),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.CheckConstraint(
            f"status IN ({PRACTICE_STATUSES})", name=op.f("ck_practices_status")
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_practices_citizen_id_citizens"),
        ),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["practice_types.id"],
            name=op.f("fk_practices_type_id_practice_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices")),
        sa.UniqueConstraint(
            "protocol_year", "protocol_number", name="uq_practices_protocol"
        ),
    )
    op.create_index(op.f("ix_practices_citizen_id"), "practices", ["citizen_id"])
    op.create_index(op.f("ix_practices_type_id"), "practices", ["type_id"])
    op.create_table(
        "tax_positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("tax_type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("instalment", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notice_number", sa.String(length=18), nullable=True),
        sa.CheckConstraint(
            f"status IN ({TAX_STATUSES})", name=op.f("ck_tax_positions_status")
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_tax_positions_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_positions")),
        sa.UniqueConstraint(
            "notice_number", name=op.f("uq_tax_positions_notice_number")
        ),
    )
    op.create_index(
        op.f("ix_tax_positions_citizen_id"), "tax_positions", ["citizen_id"]
    )
    op.create_table(
        "practice_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", _timestamp(), nullable=False),
        sa.CheckConstraint(
            f"status IN ({PRACTICE_STATUSES})", name=op.f("ck_practice_history_status")
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.id"],
            name=op.f("fk_practice_history_practice_id_practices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_history")),
    )
    op.create_index(
        op.f("ix_practice_history_practice_id"), "practice_history", ["practice_id"]
    )


def downgrade() -> None:
    op.drop_table("practice_history")
    op.drop_table("tax_positions")
    op.drop_table("practices")
    op.drop_table("events")
    op.drop_table("channel_links")
    op.drop_table("practice_types")
    op.drop_table("counter_services")
    op.drop_table("citizens")
