"""The office's console: staff logins with roles, sessions, audit log, notes; who has a pratica.

Revision ID: 0012_console
Revises: 0011_appointment_status
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_console"
down_revision: str | None = "0011_appointment_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(60), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
        sa.CheckConstraint(
            "role IN ('operatore', 'responsabile', 'pubblicatore', 'admin')", name=op.f("ck_staff_users_role")
        ),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_staff_sessions_user_id_staff_users"), ondelete="CASCADE"
        ),
    )
    op.create_index(op.f("ix_staff_sessions_user_id"), "staff_sessions", ["user_id"])
    op.create_table(
        "staff_audit",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer()),
        sa.Column("username", sa.String(60), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("target", sa.String(120), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_staff_audit_user_id_staff_users"), ondelete="SET NULL"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_staff_audit_at", "staff_audit", ["at"])
    op.create_table(
        "practice_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer()),
        sa.Column("author_name", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_notes")),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_practice_notes_practice_id_practices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff_users.id"], name=op.f("fk_practice_notes_author_id_staff_users"), ondelete="SET NULL"
        ),
    )
    op.create_index(op.f("ix_practice_notes_practice_id"), "practice_notes", ["practice_id"])
    with op.batch_alter_table("practices") as batch:
        batch.add_column(sa.Column("assigned_to_id", sa.Integer()))
        batch.create_foreign_key(
            op.f("fk_practices_assigned_to_id_staff_users"), "staff_users", ["assigned_to_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index(op.f("ix_practices_assigned_to_id"), ["assigned_to_id"])


def downgrade() -> None:
    with op.batch_alter_table("practices") as batch:
        batch.drop_index(op.f("ix_practices_assigned_to_id"))
        batch.drop_constraint(op.f("fk_practices_assigned_to_id_staff_users"), type_="foreignkey")
        batch.drop_column("assigned_to_id")
    op.drop_index(op.f("ix_practice_notes_practice_id"), "practice_notes")
    op.drop_table("practice_notes")
    op.drop_index("ix_staff_audit_at", "staff_audit")
    op.drop_table("staff_audit")
    op.drop_index(op.f("ix_staff_sessions_user_id"), "staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
