"""Tables of pratiche: types, pratiche and their history, uploads, protocol counters, documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.db.models.base import Base, PracticeStatus, _in, utcnow
from backoffice.db.models.identity import Citizen


class PracticeType(Base):
    """A kind of pratica the comune accepts, with the fields its form asks for."""

    __tablename__ = "practice_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    # [{name, label, kind, required, choices}], see FieldKind.
    fields: Mapped[list[Any]] = mapped_column(default=list)


class Practice(Base):
    """A citizen's pratica: a request, a communication or a report, with its protocol."""

    __tablename__ = "practices"
    __table_args__ = (
        # A bozza has no protocol yet: it gets one when it is filed, hence nullable.
        UniqueConstraint(
            "protocol_year", "protocol_number", name="uq_practices_protocol"
        ),
        CheckConstraint(f"status IN ({_in(PracticeStatus)})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol_year: Mapped[int | None] = mapped_column(Integer)
    protocol_number: Mapped[int | None] = mapped_column(Integer)
    type_id: Mapped[int] = mapped_column(ForeignKey("practice_types.id"), index=True)
    # None for an anonymous segnalazione: then only its submitter may follow it.
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id"), index=True
    )
    # The channel user ("telegram:123") who submitted it from the chat, if any.
    submitted_by: Mapped[str | None] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The clerk who took it in charge in the console, if any.
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    type: Mapped[PracticeType] = relationship()
    citizen: Mapped[Citizen | None] = relationship()
    history: Mapped[list[PracticeHistory]] = relationship(
        back_populates="practice", order_by="PracticeHistory.at"
    )

    @property
    def protocol(self) -> str | None:
        """The protocol as citizens read it, e.g. 2026/000123."""
        if self.protocol_year is None or self.protocol_number is None:
            return None
        return f"{self.protocol_year}/{self.protocol_number:06d}"


class PracticeHistory(Base):
    """One step of a pratica's lifecycle, kept forever."""

    __tablename__ = "practice_history"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(PracticeStatus)})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        ForeignKey("practices.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    # Who made the step: a clerk's name from the staff side, None for the citizen or the system.
    actor: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    practice: Mapped[Practice] = relationship(back_populates="history")


class Upload(Base):
    """A file a linked chat sent; kept while it is part of a pratica, a day if it never is."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_user: Mapped[str] = mapped_column(String(80), index=True)
    # The citizen linked to that chat: only linked chats upload, and the quota is theirs
    # (NULL for uploads made before that rule).
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    practice_id: Mapped[int | None] = mapped_column(
        ForeignKey("practices.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProtocolCounter(Base):
    """The last protocol number handed out in a year; its row lock serialises numbering."""

    __tablename__ = "protocol_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class Document(Base):
    """A document the comune issued for a pratica (a certificate), with its verification code."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        ForeignKey("practices.id", ondelete="CASCADE"), unique=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    practice: Mapped[Practice] = relationship()
