"""Submit and track pratiche from the chat: link codes, uploads, idempotency, documents.

Also: citizens' residence address, anonymous pratiche (segnalazioni), who made a step of a
pratica's history, a recipient for events without a citizen, and a question per form field.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from seed: a migration must not change when the
# seed data changes later. (practice type code, field name) -> question to the citizen.
QUESTIONS: dict[tuple[str, str], str] = {
    **{
        (code, name): question
        for code in ("certificato_residenza", "stato_famiglia")
        for name, question in (
            (
                "subject_fiscal_code",
                "Qual è il codice fiscale dell'intestatario del certificato?",
            ),
            ("use", "Ti serve in bollo o in carta libera (esente)?"),
        )
    },
    **{
        (code, name): question
        for code in ("cila", "scia")
        for name, question in (
            ("property_address", "Qual è l'indirizzo dell'immobile?"),
            (
                "cadastral_data",
                "Quali sono i dati catastali (foglio, particella, subalterno)?",
            ),
            ("works_description", "Che lavori farai? Descrivili in poche parole."),
            ("technician", "Chi è il tecnico incaricato (nome e iscrizione all'albo)?"),
            ("works_start_date", "In che giorno iniziano i lavori?"),
            ("sworn_report", "Mandami la relazione tecnica asseverata (PDF)."),
        )
    },
    ("cila", "drawings"): "Mandami gli elaborati grafici in PDF (facoltativi).",
    ("scia", "drawings"): "Mandami gli elaborati grafici (PDF).",
    (
        "scia",
        "structural_filing",
    ): "Se è previsto, mandami il deposito del progetto strutturale (PDF, facoltativo).",
    ("occupazione_suolo", "purpose"): "Per che cosa ti serve il suolo pubblico?",
    ("occupazione_suolo", "address"): "In quale via o piazza?",
    ("occupazione_suolo", "start_date"): "Da che giorno?",
    ("occupazione_suolo", "end_date"): "Fino a che giorno?",
    ("occupazione_suolo", "area_m2"): "Quanti metri quadrati occuperai?",
    (
        "occupazione_suolo",
        "site_plan",
    ): "Mandami la planimetria dell'area, in PDF o foto (facoltativa).",
    ("segnalazione", "category"): "Di che cosa si tratta?",
    ("segnalazione", "location"): "Dove si trova? Mandami la posizione.",
    ("segnalazione", "description"): "Descrivi il problema in poche parole.",
    ("segnalazione", "photo"): "Mandami la foto del problema (facoltativa).",
}


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


_practice_types = sa.table(
    "practice_types",
    sa.column("id", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("fields", _json()),
)


def _rewrite_fields(rewrite: Any) -> None:
    """Apply `rewrite(code, field)` to every field of every pratica type (a data migration)."""
    bind = op.get_bind()
    for row in bind.execute(sa.select(_practice_types)).all():
        fields = [rewrite(row.code, dict(field)) for field in row.fields or []]
        bind.execute(
            _practice_types.update()
            .where(_practice_types.c.id == row.id)
            .values(fields=fields)
        )


def _add_question(code: str, field: dict[str, Any]) -> dict[str, Any]:
    if not field.get("question"):
        field["question"] = QUESTIONS.get((code, field["name"]), f"{field['label']}?")
    if code == "segnalazione" and field["name"] == "category":
        # The NLU's issue categories: illuminazione, strade, rifiuti, verde, altro.
        field["choices"] = [
            "verde" if choice == "verde_pubblico" else choice
            for choice in field.get("choices") or []
        ]
    return field


def _drop_question(code: str, field: dict[str, Any]) -> dict[str, Any]:
    field.pop("question", None)
    if code == "segnalazione" and field["name"] == "category":
        field["choices"] = [
            "verde_pubblico" if choice == "verde" else choice
            for choice in field.get("choices") or []
        ]
    return field


def upgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.add_column(sa.Column("address", sa.String(length=200), nullable=True))
    with op.batch_alter_table("practices") as batch:
        batch.alter_column("citizen_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("submitted_by", sa.String(length=80), nullable=True))
        batch.create_index(batch.f("ix_practices_submitted_by"), ["submitted_by"])
    with op.batch_alter_table("practice_history") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=100), nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("channel_user", sa.String(length=80), nullable=True))

    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.Column("used_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_link_codes_citizen_id_citizens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_link_codes_code")),
    )
    op.create_index(op.f("ix_link_codes_citizen_id"), "link_codes", ["citizen_id"])
    op.create_table(
        "failed_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_user", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_attempts")),
    )
    op.create_index(
        op.f("ix_failed_attempts_channel_user"), "failed_attempts", ["channel_user"]
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("channel_user", sa.String(length=80), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.id"],
            name=op.f("fk_uploads_practice_id_practices"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index(op.f("ix_uploads_channel_user"), "uploads", ["channel_user"])
    op.create_index(op.f("ix_uploads_practice_id"), "uploads", ["practice_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_user", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", _json(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "channel_user", "key", name="uq_idempotency_keys_channel_user_key"
        ),
    )
    op.create_table(
        "protocol_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_protocol_counters")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("verification_code", sa.String(length=16), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.id"],
            name=op.f("fk_documents_practice_id_practices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("practice_id", name=op.f("uq_documents_practice_id")),
        sa.UniqueConstraint(
            "verification_code", name=op.f("uq_documents_verification_code")
        ),
    )
    _rewrite_fields(_add_question)


def downgrade() -> None:
    _rewrite_fields(_drop_question)
    op.drop_table("documents")
    op.drop_table("protocol_counters")
    op.drop_table("idempotency_keys")
    op.drop_table("uploads")
    op.drop_table("failed_attempts")
    op.drop_table("link_codes")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("channel_user")
    with op.batch_alter_table("practice_history") as batch:
        batch.drop_column("actor")
    # Anonymous pratiche cannot exist without this revision's columns.
    op.execute("DELETE FROM practices WHERE citizen_id IS NULL")
    with op.batch_alter_table("practices") as batch:
        batch.drop_index(batch.f("ix_practices_submitted_by"))
        batch.drop_column("submitted_by")
        batch.alter_column("citizen_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("citizens") as batch:
        batch.drop_column("address")
