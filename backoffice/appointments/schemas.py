"""Plain data of the counters: services and their hours, free slots, days, bookings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from backoffice.schemas import JSONObject
from sportello.clock import ROME

QRUrl = Callable[[str], str]


def local_iso(value: datetime) -> str:
    """An instant as Rome's wall clock shows it, with the offset: 2026-12-03T10:00:00+01:00."""
    return value.astimezone(ROME).isoformat()


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """One opening window of a counter, in local time (Europe/Rome)."""

    weekday: int  # 0 = Monday … 6 = Sunday, as datetime.weekday()
    opens: str  # "08:30"
    closes: str  # "12:30"

    def to_json(self) -> JSONObject:
        return {"weekday": self.weekday, "opens": self.opens, "closes": self.closes}


@dataclass(frozen=True, slots=True)
class CounterService:
    """A counter citizens can book a slot at."""

    code: str
    name: str
    description: str
    location: str
    slot_minutes: int
    desks: int
    opening_hours: tuple[OpeningHours, ...]
    requirements: tuple[str, ...] = ()  # what to bring
    fee_cents: int | None = None
    fee_note: str | None = None  # the fee's rule in words (a duplicate costs more…)

    def to_json(self) -> JSONObject:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "location": self.location,
            "slot_minutes": self.slot_minutes,
            "desks": self.desks,
            "opening_hours": [hours.to_json() for hours in self.opening_hours],
            "requirements": list(self.requirements),
            "fee_cents": self.fee_cents,
            "fee_note": self.fee_note,
        }


@dataclass(frozen=True, slots=True)
class Closure:
    """A day every counter is closed, and why (the holiday's or the comune's name for it)."""

    day: date
    reason: str

    def to_json(self) -> JSONObject:
        return {"date": self.day.isoformat(), "reason": self.reason}


@dataclass(frozen=True, slots=True)
class CounterSlot:
    """A slot with at least one free desk."""

    starts_at: datetime
    ends_at: datetime
    free: int

    def to_json(self) -> JSONObject:
        return {
            "starts_at": local_iso(self.starts_at),
            "ends_at": local_iso(self.ends_at),
            "free": self.free,
        }


@dataclass(frozen=True, slots=True)
class DaySlots:
    """A day of a counter: closed (and why), or its free slots."""

    day: date
    closed: bool
    reason: str | None
    slots: tuple[CounterSlot, ...]

    def to_json(self) -> JSONObject:
        return {
            "date": self.day.isoformat(),
            "closed": self.closed,
            "reason": self.reason,
            "slots": [slot.to_json() for slot in self.slots],
        }


@dataclass(frozen=True, slots=True)
class AvailableDay:
    """An open day with free slots, and how many."""

    day: date
    free_slots: int

    def to_json(self) -> JSONObject:
        return {"date": self.day.isoformat(), "free_slots": self.free_slots}


@dataclass(frozen=True, slots=True)
class AppointmentView:
    """A booking as the citizen and the desk see it."""

    code: str
    service_code: str
    service_name: str
    location: str
    starts_at: datetime
    ends_at: datetime
    desk: int | None
    status: str
    requirements: tuple[str, ...]
    fee_cents: int | None
    fee_note: str | None

    def to_json(self, qr_url: QRUrl) -> JSONObject:
        return {**self._booking(), "qr_payload": qr_url(self.code)}

    def reminder_payload(self) -> JSONObject:
        """What the reminder the day before tells: where, when, what to bring (no status)."""
        return {name: value for name, value in self._booking().items() if name != "status"}

    def _booking(self) -> JSONObject:
        return {
            "code": self.code,
            "service_code": self.service_code,
            "service_name": self.service_name,
            "location": self.location,
            "starts_at": local_iso(self.starts_at),
            "ends_at": local_iso(self.ends_at),
            "desk": self.desk,
            "status": self.status,
            "requirements": list(self.requirements),
            "fee_cents": self.fee_cents,
            "fee_note": self.fee_note,
        }


@dataclass(frozen=True, slots=True)
class DeskStatusChange:
    """A booking after the desk set its status; `changed` is False when it already was."""

    appointment: AppointmentView
    from_status: str
    changed: bool

    def event_payload(self, label: str) -> JSONObject:
        """What the citizen's history keeps of the change: which booking, from what to what."""
        view = self.appointment
        return {
            "code": view.code,
            "service_code": view.service_code,
            "service_name": view.service_name,
            "starts_at": local_iso(view.starts_at),
            "from_status": self.from_status,
            "to_status": view.status,
            "status_label": label,
        }
