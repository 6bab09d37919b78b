"""Tables of the counters: services with their hours, and appointments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.db.models.base import Base, _in, utcnow


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
    """Where a counter appointment is: booked, cancelled, or at the desk (checked in,
    served, or never came)."""

    PRENOTATO = "prenotato"
    ANNULLATO = "annullato"
    PRESENTE = "presente"
    COMPLETATO = "completato"
    NON_PRESENTATO = "non_presentato"


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
