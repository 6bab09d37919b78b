"""Typed results of the appointments area: counters, their hours and closures, slots, bookings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from backend_client.models.base import Result


class OpeningHours(Result):
    """One opening window of a counter, in local time (Europe/Rome); weekday 0 is Monday."""

    weekday: int = Field(ge=0, le=6)
    opens: str
    closes: str


class Closure(Result):
    """A day every counter is closed, e.g. Natale or the patron's day, and why."""

    date: date
    reason: str


class CounterService(Result):
    """A counter (sportello) citizens can book a slot at."""

    code: str
    name: str
    description: str
    location: str
    slot_minutes: int
    desks: int
    opening_hours: tuple[OpeningHours, ...]
    requirements: tuple[str, ...] = ()  # what to bring, one plain-Italian item each
    fee_cents: int | None = None  # what it costs, if anything
    fee_note: str | None = None  # the fee's rule in words (a duplicate costs more…)
    # Holidays and the comune's closing days of the next two weeks; weekly closures are
    # in opening_hours instead.
    closures: tuple[Closure, ...] = ()


AppointmentStatus = Literal["prenotato", "annullato", "presente", "completato", "non_presentato"]
# What the desk sets: checked in, served, never came.


DeskStatus = Literal["presente", "completato", "non_presentato"]


class AppointmentSlot(Result):
    """A counter slot with free desks; times carry Rome's offset (+01:00 or +02:00)."""

    starts_at: datetime
    ends_at: datetime
    free: int  # desks still free


class AvailableDay(Result):
    """An open day with at least one free slot."""

    date: date
    free_slots: int


class DaySlots(Result):
    """One day of a counter: closed (with the reason, e.g. "Natale") or its free slots."""

    date: date
    closed: bool
    reason: str | None = None
    slots: tuple[AppointmentSlot, ...] = ()


class Appointment(Result):
    """A booking at a counter; show `qr_payload` as a QR code: the desk scans it."""

    code: str  # CE-7K3P, read aloud at the desk
    service_code: str
    service_name: str
    location: str
    starts_at: datetime  # with Rome's offset
    ends_at: datetime
    desk: int | None  # None once cancelled
    status: AppointmentStatus
    requirements: tuple[str, ...] = ()
    fee_cents: int | None = None
    fee_note: str | None = None
    qr_payload: str  # the URL of the desk's verification page


class DeskStatusChange(Appointment):
    """A booking after the desk set its status; `changed` is False if it already had it."""

    changed: bool
