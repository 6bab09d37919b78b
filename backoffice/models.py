"""SQLAlchemy 2 models of the back office: the comune's citizens, pratiche, taxes and services."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC.

    SQLite has no timezone type and hands back naive values, so the zone is put back
    on read; naive values are refused on write because their zone is unknowable.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware values only")
        return value.astimezone(UTC)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSONB on PostgreSQL so later issues can index and query inside documents.
JSONDocument = JSON().with_variant(postgresql.JSONB(), "postgresql")

# SQLite only autoincrements an INTEGER PRIMARY KEY, not a BIGINT one.
EventId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """Return the current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


class PracticeStatus(enum.StrEnum):
    """Where a pratica is in its lifecycle."""

    BOZZA = "bozza"
    PRESENTATA = "presentata"
    IN_ISTRUTTORIA = "in_istruttoria"
    INTEGRAZIONE_RICHIESTA = "integrazione_richiesta"
    ACCOLTA = "accolta"
    RESPINTA = "respinta"
    ARCHIVIATA = "archiviata"


class TaxStatus(enum.StrEnum):
    """Whether a tax instalment is still owed."""

    DA_PAGARE = "da_pagare"
    SCADUTO = "scaduto"
    PAGATO = "pagato"


class FieldKind(enum.StrEnum):
    """What a pratica form field asks for, so the chat can ask for it the right way."""

    TEXT = "text"
    DATE = "date"
    ADDRESS = "address"
    CHOICE = "choice"
    FISCAL_CODE = "fiscal_code"
    ATTACHMENT = "attachment"
    LOCATION = "location"


def _in(values: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in values)


class Base(DeclarativeBase):
    """Declarative base with constraint names stable across SQLite and PostgreSQL."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
        list[Any]: JSONDocument,
    }


class Citizen(Base):
    """A person known to the comune, identified by the codice fiscale."""

    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_code: Mapped[str] = mapped_column(String(16), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    # The registered residence, as a certificate prints it.
    address: Mapped[str | None] = mapped_column(String(200))
    # The anagrafe's family (famiglia anagrafica) the citizen belongs to: stato di famiglia
    # lists its members, never whoever happens to live at the same address text.
    household_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Whether the chat reminds this citizen of payments falling due (the citizen chooses).
    tax_reminders: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    channel_links: Mapped[list[ChannelLink]] = relationship(back_populates="citizen")


class ChannelLink(Base):
    """A chat account (e.g. a Telegram user) proven to belong to a citizen."""

    __tablename__ = "channel_links"
    __table_args__ = (
        UniqueConstraint(
            "channel", "channel_user_id", name="uq_channel_links_channel_user"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)

    citizen: Mapped[Citizen] = relationship(back_populates="channel_links")


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


class TaxPosition(Base):
    """One instalment of a local tax a citizen owes (or has paid)."""

    __tablename__ = "tax_positions"
    __table_args__ = (CheckConstraint(f"status IN ({_in(TaxStatus)})", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    tax_type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    instalment: Mapped[int] = mapped_column(Integer)
    # Money is integer cents end to end: floats cannot represent euro cents exactly.
    amount_cents: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    notice_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    # When the citizen was reminded of the due date: a reminder goes once.
    reminded_at: Mapped[datetime | None]

    citizen: Mapped[Citizen] = relationship()


class PaymentNotice(Base):
    """The pagoPA notice (avviso) issued for a tax position: what a citizen pays with."""

    __tablename__ = "payment_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One notice per position: the unique constraint settles concurrent requests.
    position_id: Mapped[int] = mapped_column(
        ForeignKey("tax_positions.id", ondelete="CASCADE"), unique=True
    )
    notice_number: Mapped[str] = mapped_column(String(18), unique=True)
    payee_fiscal_code: Mapped[str] = mapped_column(String(11))
    amount_cents: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    # The secret part of the checkout URL: whoever holds it may pay, as with pagoPA's.
    checkout_token: Mapped[str] = mapped_column(String(64), unique=True)
    # Until when that URL works (NULL: no longer); asking again for the notice renews it.
    checkout_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    position: Mapped[TaxPosition] = relationship()


class PaymentReceipt(Base):
    """The receipt of a paid notice (ricevuta telematica), one per notice."""

    __tablename__ = "payment_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique, so two payments racing for the same notice leave one receipt.
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("payment_notices.id", ondelete="CASCADE"), unique=True
    )
    # The IUR (identificativo univoco di riscossione) the payment service assigns.
    receipt_number: Mapped[str] = mapped_column(String(35), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    paid_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(16), default="checkout")

    notice: Mapped[PaymentNotice] = relationship()


class CounterService(Base):
    """A counter (sportello) citizens can book a slot at."""

    __tablename__ = "counter_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(200))
    slot_minutes: Mapped[int] = mapped_column(Integer)
    desks: Mapped[int] = mapped_column(Integer)
    # [{weekday: 0=Mon..6, opens: "08:30", closes: "12:30"}], local time (Europe/Rome).
    opening_hours: Mapped[list[Any]] = mapped_column(default=list)
    # What to bring, one plain-Italian item each ("una fototessera recente").
    requirements: Mapped[list[Any]] = mapped_column(default=list)
    # What the service costs, in cents, and the rule in words (a duplicate costs more…).
    fee_cents: Mapped[int | None] = mapped_column(Integer)
    fee_note: Mapped[str | None] = mapped_column(Text)


class AppointmentStatus(enum.StrEnum):
    """Where a counter appointment is: booked, cancelled, or served at the desk."""

    PRENOTATO = "prenotato"
    ANNULLATO = "annullato"
    COMPLETATO = "completato"


# A booking is live while it holds a desk; its place is given back when it is cancelled.
LIVE_APPOINTMENT = text("status = 'prenotato'")


class Appointment(Base):
    """A citizen's booking of one desk of a counter service at one slot.

    Slots are computed from the service's opening hours; only bookings are stored.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        # Two citizens racing for the last desk of a slot: one INSERT wins. A cancelled
        # booking has no desk, and NULLs never clash, so it blocks nothing.
        UniqueConstraint(
            "service_id", "starts_at", "desk", name="uq_appointments_slot_desk"
        ),
        # One live booking per citizen, service and time, whatever the desk.
        Index(
            "uq_appointments_citizen_live",
            "citizen_id",
            "service_id",
            "starts_at",
            unique=True,
            sqlite_where=LIVE_APPOINTMENT,
            postgresql_where=LIVE_APPOINTMENT,
        ),
        CheckConstraint(f"status IN ({_in(AppointmentStatus)})", name="status"),
        CheckConstraint(
            "(status = 'annullato' AND desk IS NULL)"
            " OR (status <> 'annullato' AND desk >= 1)",
            name="desk",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Read aloud at the desk and typed in the chat: CE-7K3P.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("counter_services.id"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(index=True)
    desk: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the reminder the day before went out; cleared when the appointment moves.
    reminded_at: Mapped[datetime | None]

    service: Mapped[CounterService] = relationship()


class Event(Base):
    """One entry of the append-only event feed the bot reads with a cursor."""

    __tablename__ = "events"
    # Without AUTOINCREMENT SQLite may reuse the id of a deleted last row, and a reader's
    # cursor would then skip the new event.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A recipient of its own for events without a citizen (an anonymous segnalazione).
    channel_user: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkCode(Base):
    """A one-time code the portal hands a citizen proven with SPID/CIE, to link a chat account."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised: upper case, without the dash the citizen sees (K7P2QX9M).
    code: Mapped[str] = mapped_column(String(16), unique=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    citizen: Mapped[Citizen] = relationship()


class FailedAttempt(Base):
    """A failed guess by a channel user (a wrong link code)."""

    __tablename__ = "failed_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)


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


class IdempotencyRecord(Base):
    """The answer given to one creating POST, so a retry gets it again instead of a duplicate."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint(
            "channel_user", "key", name="uq_idempotency_keys_channel_user_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the request, so the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
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


class Delivery(Base):
    """One notice to send: an event for one chat account, claimed by a bot with a lease.

    Written with the event, in its transaction, for the accounts linked at that moment, so a
    bot that starts with nothing has only what happened after the link to tell, never the past.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient"),
        CheckConstraint("status IN ('pending', 'sent', 'dead')", name="delivery_status"),
        Index("ix_deliveries_due", "status", "available_at"),
        Index("ix_deliveries_recipient", "recipient", "status"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # "telegram:123": the channel, then the account on it.
    recipient: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # When it may be claimed (again): now for a new one, the lease's end for a claimed one,
    # the backoff's end after a failure.
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship()
