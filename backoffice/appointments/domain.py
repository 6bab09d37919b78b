"""The rules of counter appointments, with no I/O: closed days, office hours, slots, codes,
the desk's QR token and the desk status of a booking.

Slots are never stored. A day's slots follow from the service's opening hours (local time,
Europe/Rome), its slot length and its desks, minus the closed days (Italy's public holidays
and the comune's own) and minus the bookings, the only rows there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import holidays

from backoffice.appointments.schemas import Closure, CounterSlot
from backoffice.db.models import AppointmentStatus
from backoffice.errors import BackOfficeError, Conflict, InvalidRequest, InvalidTransition, NotFound
from sportello.clock import ROME, local
from sportello.formatting import long_date
from sportello.settings import Settings

# Retries of a booking whose desk was taken between reading and writing; each retry reads
# again, so it either finds another free desk or answers SlotTaken.
MAX_ATTEMPTS = 5
WEEKLY_CLOSURE = "Chiusura settimanale"
OUTSIDE_HOURS = "Fuori dall'orario degli appuntamenti"
PAST = "Orario già passato"
SLOT_TAKEN = "Posto già prenotato"
REMINDER_EVENT = "appointment_reminder"
STATUS_EVENT = "appointment_status_changed"
# Reminders go out in daytime only, Rome time: nobody is woken by tomorrow's appointment.
REMINDER_HOURS = range(9, 20)
# How far ahead a counter service tells its closed days: enough for the chat to say when
# a desk reopens after Christmas or Easter.
CLOSURE_DAYS = 14

STATUS_LABELS: dict[str, str] = {
    AppointmentStatus.PRENOTATO: "Prenotato",
    AppointmentStatus.ANNULLATO: "Annullato",
    AppointmentStatus.PRESENTE: "Presente allo sportello",
    AppointmentStatus.COMPLETATO: "Completato",
    AppointmentStatus.NON_PRESENTATO: "Non presentato",
}


# --- closed days ----------------------------------------------------------------------


@lru_cache(maxsize=8)
def _italian_holidays(year: int) -> holidays.HolidayBase:
    return holidays.Italy(years=year, language="it_IT")


class ClosedDays:
    """Days every counter is closed: Italy's public holidays and the comune's own."""

    def __init__(self, comune_days: Mapping[str, str]) -> None:
        # "MM-DD" every year, "YYYY-MM-DD" once -> the reason citizens are told.
        self._comune = dict(comune_days)

    def reason(self, day: date) -> str | None:
        """Why the comune is closed that day (the holiday's Italian name), or None."""
        own = self._comune.get(day.isoformat()) or self._comune.get(f"{day.month:02d}-{day.day:02d}")
        if own:
            return own
        name = _italian_holidays(day.year).get(day)
        return str(name) if name else None

    def ahead(self, today: date, days: int) -> list[Closure]:
        """The closed days among `today` and the `days - 1` after it, in order."""
        closures = []
        for offset in range(days):
            day = today + timedelta(days=offset)
            reason = self.reason(day)
            if reason is not None:
                closures.append(Closure(day, reason))
        return closures


@dataclass(frozen=True, slots=True)


class OfficeHours:
    """When a counter takes appointments: its weekly windows, slot length and desks."""

    opening_hours: tuple[Mapping[str, Any], ...]  # {weekday: 0=Mon..6, opens, closes}
    slot_minutes: int
    desks: int

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    def slot_starts(self, day: date) -> list[datetime]:
        """Every slot start of the day from the opening hours, Rome time, whatever is booked."""
        starts: list[datetime] = []
        for hours in self.opening_hours:
            if int(hours["weekday"]) != day.weekday():
                continue
            start = datetime.combine(day, _clock_time(hours["opens"]), ROME)
            closes = datetime.combine(day, _clock_time(hours["closes"]), ROME)
            while start + self.step <= closes:
                starts.append(start)
                start += self.step
        return sorted(starts)

    def open_at(self, at: datetime, closed_days: ClosedDays) -> bool:
        """Whether the counter is open at `at` (Rome time): in a weekly window, not a closed day."""
        local_at = at.astimezone(ROME)
        if closed_days.reason(local_at.date()) is not None:
            return False
        moment = local_at.time()
        return any(
            int(hours["weekday"]) == local_at.weekday()
            and _clock_time(hours["opens"]) <= moment < _clock_time(hours["closes"])
            for hours in self.opening_hours
        )


def _clock_time(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def day_start(day: date) -> datetime:
    """Midnight of a day in Rome."""
    return datetime.combine(day, time(0), ROME)


@dataclass(frozen=True, slots=True)


class BookingRules:
    """When slots may be booked: closed days, how far ahead, how late."""

    closed_days: ClosedDays
    horizon_days: int
    min_notice: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> BookingRules:
        return cls(
            closed_days=ClosedDays(settings.comune_closing_days),
            horizon_days=settings.appointment_horizon_days,
            min_notice=timedelta(minutes=settings.appointment_min_notice_minutes),
        )


class Calendar:
    """The slot calendar of one counter as of `now`: closed days, free slots, bookable times."""

    def __init__(self, rules: BookingRules, hours: OfficeHours, now: datetime) -> None:
        self.rules = rules
        self.hours = hours
        self.now = now
        self.today = now.astimezone(ROME).date()

    @property
    def last_day(self) -> date:
        """The last day that can be booked today."""
        return self.today + timedelta(days=self.rules.horizon_days)

    def window(self, first: date, last: date) -> tuple[date, date] | None:
        """The bookable part of first..last, or None if there is none."""
        first, last = max(first, self.today), min(last, self.last_day)
        return (first, last) if first <= last else None

    def closed_reason(self, day: date) -> str | None:
        """Why the counter is closed all day, or None if it opens."""
        reason = self.rules.closed_days.reason(day)
        if reason:
            return reason
        if not self.hours.slot_starts(day):
            return WEEKLY_CLOSURE
        return None

    def free_slots(
        self, first: date, last: date, taken: Mapping[datetime, set[int]]
    ) -> dict[date, list[CounterSlot]]:
        """The free slots of every open day from first to last; `taken`: desks by UTC start."""
        earliest = self.now + self.rules.min_notice
        result: dict[date, list[CounterSlot]] = {}
        day = first
        while day <= last:
            if self.closed_reason(day) is None:
                slots = []
                for start in self.hours.slot_starts(day):
                    free = self.hours.desks - len(taken.get(start.astimezone(UTC), ()))
                    if start >= earliest and free > 0:
                        slots.append(CounterSlot(start, start + self.hours.step, free))
                result[day] = slots
            day += timedelta(days=1)
        return result

    def unbookable_reason(self, starts_at: datetime) -> str | None:
        """Why this time cannot be booked at this counter, or None if it is a real slot."""
        at = starts_at.astimezone(ROME)
        if at < self.now:
            return PAST
        closed = self.closed_reason(at.date())
        if closed is not None:
            return closed
        if at not in self.hours.slot_starts(at.date()):
            return OUTSIDE_HOURS
        if at < self.now + self.rules.min_notice:
            minutes = int(self.rules.min_notice.total_seconds() // 60)
            return f"Si prenota almeno {minutes} minuti prima"
        if at.date() > self.last_day:
            return f"Si prenota al massimo {self.rules.horizon_days} giorni prima"
        return None

    def free_desk(self, busy: Iterable[int]) -> int | None:
        """The lowest desk not in `busy`, or None if every desk is."""
        taken = set(busy)
        return next((desk for desk in range(1, self.hours.desks + 1) if desk not in taken), None)


def nearest(
    by_day: Mapping[date, list[CounterSlot]], wanted: time | None, limit: int
) -> list[CounterSlot]:
    """The free slots nearest a wanted time of day: that day first, then the next ones.

    On each day the slots nearest the wanted time come first; the chosen ones are returned
    in time order.
    """
    chosen: list[CounterSlot] = []
    for each_day, slots in sorted(by_day.items()):
        if wanted is not None:
            target = datetime.combine(each_day, wanted, ROME)
            slots = sorted(slots, key=lambda s: abs(s.starts_at - target))
        chosen.extend(slots[: limit - len(chosen)])
        if len(chosen) >= limit:
            break
    return sorted(chosen, key=lambda s: s.starts_at)


# --- times as citizens write them -----------------------------------------------------


def as_local(value: datetime) -> datetime:
    """A wanted time: one without an offset is Rome's wall clock."""
    return local(value)


def parse_day(value: str) -> date:
    """YYYY-MM-DD, or ValueError."""
    return date.fromisoformat(value.strip())


def parse_wanted_time(value: Any) -> datetime | date:
    """An ISO datetime (Rome's wall clock if it has no offset) or an ISO date; ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("empty")
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    return as_local(datetime.fromisoformat(text))


# --- the citizen's changes ------------------------------------------------------------


def changeable_error(status: str, starts_at: datetime, now: datetime) -> str | None:
    """Why the citizen can no longer move or cancel a booking, or None if they can."""
    if status != AppointmentStatus.PRENOTATO:
        return f"the appointment is {status}"
    if starts_at <= now:
        return "the appointment has already started"
    return None


# --- the desk status ------------------------------------------------------------------

# What the desk may set, from each status: the citizen checks in (presente), is served
# (completato), or never came (non_presentato). Cancelled, served and absent are final.
DESK_TRANSITIONS: dict[str, frozenset[str]] = {
    AppointmentStatus.PRENOTATO: frozenset(
        {AppointmentStatus.PRESENTE, AppointmentStatus.COMPLETATO, AppointmentStatus.NON_PRESENTATO}
    ),
    AppointmentStatus.PRESENTE: frozenset({AppointmentStatus.COMPLETATO}),
}
DESK_STATUSES = frozenset(
    {AppointmentStatus.PRESENTE, AppointmentStatus.COMPLETATO, AppointmentStatus.NON_PRESENTATO}
)


def desk_status(value: object) -> AppointmentStatus:
    """The status the desk asks for; InvalidRequest (in Italian) for anything else."""
    if isinstance(value, str) and value in DESK_STATUSES:
        return AppointmentStatus(value)
    raise InvalidRequest("Stato non valido: usa presente, completato o non_presentato.")


def check_desk_transition(
    current: str, to: AppointmentStatus, starts_at: datetime, now: datetime
) -> bool:
    """True if the booking moves to `to`, False if it already is there (nothing to do).

    InvalidTransition, with the reason in Italian, off the desk's lifecycle: a booking
    moves only forward, on its day, and is marked absent only once its time has come.
    """
    if current == to:
        return False
    now_label, to_label = STATUS_LABELS.get(current, current), STATUS_LABELS[to]
    if current not in DESK_TRANSITIONS:
        raise InvalidTransition(
            f"Questa prenotazione è chiusa («{now_label}»): non si può più segnare «{to_label}»."
        )
    if to not in DESK_TRANSITIONS[current]:
        raise InvalidTransition(f"Da «{now_label}» non si può passare a «{to_label}».")
    day = starts_at.astimezone(ROME).date()
    if day > now.astimezone(ROME).date():
        raise InvalidTransition(
            f"La prenotazione è per {long_date(day)}: si aggiorna dal giorno dell'appuntamento."
        )
    if to == AppointmentStatus.NON_PRESENTATO and starts_at > now:
        raise InvalidTransition(
            "L'appuntamento non è ancora iniziato: non si può segnare il cittadino come non presentato."
        )
    return True


# --- errors -------------------------------------------------------------------------


class AppointmentNotFound(NotFound):
    """No appointment has this code, or it is someone else's (the two look the same)."""

    def __init__(self, message: str = "no such appointment") -> None:
        super().__init__(message)


class SlotUnavailable(BackOfficeError):
    """The wanted slot cannot be booked; `alternatives` are the nearest free slots (JSON)."""

    def __init__(
        self, message: str, reason: str | None, alternatives: list[dict[str, object]]
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.alternatives = alternatives

    @property
    def details(self) -> dict[str, object]:
        return {"reason": self.reason, "alternatives": self.alternatives}


class SlotTaken(SlotUnavailable, Conflict):
    """Every desk of the slot is booked (perhaps a moment ago, by someone else)."""


class SlotClosed(SlotUnavailable):
    """No slot at that time: the office is closed, it is outside hours, or it is past."""


class AlreadyBooked(Conflict):
    """The citizen already holds a live booking for this service: move it instead."""

    def __init__(self, existing: dict[str, object]) -> None:
        super().__init__("you already have an appointment for this service")
        self.existing = existing

    @property
    def details(self) -> dict[str, object]:
        return {"appointment": self.existing}
