"""Avvisi: topics, zones (GeoJSON), subscriptions, announcements, the waste calendar; delivery priority.

The topics, the zones of Cerveteri and the waste calendar written here are demo data: a
comune replaces them with its own rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TOPICS = [
    # code, emoji, title, priority
    ("allerte", "⚠️", "Allerte di protezione civile", 10),
    ("rifiuti", "🗑️", "Raccolta rifiuti", 0),
    ("uffici", "🏛️", "Chiusure e orari degli uffici", 0),
    ("tributi", "💶", "Scadenze dei tributi", 0),
    ("eventi", "🎭", "Eventi", 0),
]

# Demo outlines: rectangles around each frazione (lon, lat), not the real borders.
ZONES = [
    ("centro", "Centro", (12.085, 41.985, 12.115, 42.005)),
    ("cerenova", "Cerenova", (12.030, 41.975, 12.060, 41.995)),
    ("campo_di_mare", "Campo di Mare", (12.030, 41.950, 12.070, 41.975)),
    ("valcanneto", "Valcanneto", (12.115, 41.945, 12.150, 41.970)),
    ("due_casette", "Due Casette", (12.060, 41.975, 12.085, 41.995)),
    ("sasso", "Sasso", (12.020, 42.040, 12.070, 42.070)),
    ("ceri", "Ceri", (12.150, 41.985, 12.180, 42.005)),
    ("i_terzi", "I Terzi", (12.115, 42.005, 12.150, 42.030)),
]

# What is collected door to door on each weekday (0 = Monday); demo calendar.
WEEK = ["Organico", "Carta e cartone", "Organico", "Plastica e metalli", "Vetro", "Organico", None]


def _polygon(box: tuple[float, float, float, float]) -> dict[str, object]:
    west, south, east, north = box
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    topics = op.create_table(
        "announcement_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("emoji", sa.String(8), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_topics")),
        sa.UniqueConstraint("code", name=op.f("uq_announcement_topics_code")),
    )
    zones = op.create_table(
        "announcement_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("geometry", _json(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_zones")),
        sa.UniqueConstraint("code", name=op.f("uq_announcement_zones_code")),
    )
    op.create_table(
        "announcement_subscribers",
        sa.Column("channel_user", sa.String(80), nullable=False),
        sa.Column("zone_id", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_user", name=op.f("pk_announcement_subscribers")),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["announcement_zones.id"],
            name=op.f("fk_announcement_subscribers_zone_id_announcement_zones"),
            ondelete="SET NULL",
        ),
    )
    op.create_table(
        "announcement_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_user", sa.String(80), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_subscriptions")),
        sa.ForeignKeyConstraint(
            ["channel_user"],
            ["announcement_subscribers.channel_user"],
            name=op.f("fk_announcement_subscriptions_channel_user_announcement_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["announcement_topics.id"],
            name=op.f("fk_announcement_subscriptions_topic_id_announcement_topics"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "channel_user", "topic_id", name=op.f("uq_announcement_subscriptions_channel_user")
        ),
    )
    op.create_index("ix_announcement_subscriptions_topic", "announcement_subscriptions", ["topic_id"])
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("zones", _json(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachment", _json()),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("once_key", sa.String(80)),
        sa.Column("event_id", _ID),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["announcement_topics.id"],
            name=op.f("fk_announcements_topic_id_announcement_topics"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_announcements_event_id_events"), ondelete="SET NULL"
        ),
        sa.UniqueConstraint("once_key", name=op.f("uq_announcements_once_key")),
    )
    waste = op.create_table(
        "waste_collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("waste", sa.String(60), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waste_collections")),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["announcement_zones.id"],
            name=op.f("fk_waste_collections_zone_id_announcement_zones"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("zone_id", "weekday", "waste", name=op.f("uq_waste_collections_zone_id")),
    )
    op.bulk_insert(
        topics,
        [
            {"id": n, "code": code, "emoji": emoji, "title": title, "priority": priority, "position": n}
            for n, (code, emoji, title, priority) in enumerate(TOPICS, start=1)
        ],
    )
    op.bulk_insert(
        zones,
        [
            {"id": n, "code": code, "name": name, "geometry": _polygon(box), "position": n}
            for n, (code, name, box) in enumerate(ZONES, start=1)
        ],
    )
    rows = []
    for n, _ in enumerate(ZONES, start=1):
        for weekday in range(7):
            kind = WEEK[(weekday + n) % 7 if n % 2 else weekday]
            if kind is not None:
                rows.append({"zone_id": n, "weekday": weekday, "waste": kind})
    op.bulk_insert(waste, rows)


def downgrade() -> None:
    op.drop_table("waste_collections")
    op.drop_table("announcements")
    op.drop_table("announcement_subscriptions")
    op.drop_table("announcement_subscribers")
    op.drop_table("announcement_zones")
    op.drop_table("announcement_topics")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("priority")
