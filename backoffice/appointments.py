"""Counter appointments: free slots computed from opening hours, closed days and bookings.

Slots are never stored. A day's slots follow from the service's opening hours (local time,
Europe/Rome), its slot length and its desks, minus the closed days (Italy's public holidays
and the comune's own) and minus the bookings, the only rows there are. Two citizens racing
for the last desk of a slot both try to INSERT it; the unique constraint on
(service, start, desk) lets exactly one win.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import holidays
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.capabilities import sign
from backoffice.db import models
from backoffice.db.models import AppointmentStatus
from backoffice.errors import (
    AlreadyBooked,
    AppointmentNotFound,
    Conflict,
    NotFound,
    SlotClosed,
    SlotTaken,
)
from backoffice.events.repository import EventRepository
from backoffice.http.idempotency import IdempotencyRepository, request_fingerprint
from backoffice.identity.domain import LINK_CODE_ALPHABET, ChannelUser
from backoffice.identity.services import require_linked
from backoffice.schemas import JSONObject
from sportello.clock import ROME
from sportello.settings import Settings

CODE_PREFIX = "CE"
CODE_LENGTH = 4
# Retries of a booking whose desk was taken between reading and writing; each retry reads
# again, so it either finds another free desk or answers SlotTaken.
MAX_ATTEMPTS = 5
WEEKLY_CLOSURE = "Chiusura settimanale"
OUTSIDE_HOURS = "Fuori dall'orario degli appuntamenti"
PAST = "Orario già passato"
REMINDER_EVENT = "appointment_reminder"
_TOKEN_LABEL = b"sportello-digitale/appointments/v1"
_CODE_CHARACTERS = re.compile(r"[^A-Z0-9]")

QRUrl = Callable[[str], str]


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
        own = self._comune.get(day.isoformat()) or self._comune.get(
            f"{day.month:02d}-{day.day:02d}"
        )
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
class Closure:
    """A day every counter is closed, and why (the holiday's or the comune's name for it)."""

    day: date
    reason: str

    def to_json(self) -> JSONObject:
        return {"date": self.day.isoformat(), "reason": self.reason}


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


# --- plain data -----------------------------------------------------------------------


def local_iso(value: datetime) -> str:
    """An instant as Rome's wall clock shows it, with the offset: 2026-12-03T10:00:00+01:00."""
    return value.astimezone(ROME).isoformat()


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


def _view(
    appointment: models.Appointment, service: models.CounterService
) -> AppointmentView:
    return AppointmentView(
        code=appointment.code,
        service_code=service.code,
        service_name=service.name,
        location=service.location,
        starts_at=appointment.starts_at,
        ends_at=appointment.starts_at + timedelta(minutes=service.slot_minutes),
        desk=appointment.desk,
        status=appointment.status,
        requirements=tuple(str(item) for item in service.requirements or ()),
        fee_cents=service.fee_cents,
        fee_note=service.fee_note,
    )


# --- codes and the desk's QR ----------------------------------------------------------


def new_appointment_code() -> str:
    """A short code read aloud at the desk, without 0/O or 1/I: CE-7K3P."""
    suffix = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{CODE_PREFIX}-{suffix}"


def normalise_appointment_code(value: str) -> str:
    """CE-7K3P however it was typed: 'ce7k3p', 'CE 7K3P'."""
    plain = _CODE_CHARACTERS.sub("", value.upper())
    return f"{plain[:2]}-{plain[2:]}" if len(plain) > 2 else plain


def sign_appointment_token(secret: str, code: str) -> str:
    """The token of an appointment's verification URL; it holds for the code's life."""
    # 128 bits are unguessable and keep the QR small enough for an old phone's camera.
    return sign(secret, _TOKEN_LABEL, code, length=16)


def verify_appointment_token(secret: str, code: str, token: str) -> bool:
    return hmac.compare_digest(token, sign_appointment_token(secret, code))


# --- slots ----------------------------------------------------------------------------


def _clock_time(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def slot_starts(service: models.CounterService, day: date) -> list[datetime]:
    """Every slot start of the day from the opening hours, Rome time, whatever is booked."""
    step = timedelta(minutes=service.slot_minutes)
    starts: list[datetime] = []
    for hours in service.opening_hours:
        if int(hours["weekday"]) != day.weekday():
            continue
        start = datetime.combine(day, _clock_time(hours["opens"]), ROME)
        closes = datetime.combine(day, _clock_time(hours["closes"]), ROME)
        while start + step <= closes:
            starts.append(start)
            start += step
    return sorted(starts)


def as_local(value: datetime) -> datetime:
    """A wanted time: one without an offset is Rome's wall clock."""
    if value.tzinfo is None:
        return value.replace(tzinfo=ROME)
    return value.astimezone(ROME)


class AppointmentRepository:
    """Free slots of the counters and the citizens' bookings."""

    def __init__(
        self, session: AsyncSession, rules: BookingRules, now: datetime
    ) -> None:
        self._session = session
        self._rules = rules
        self._now = now
        self._today = now.astimezone(ROME).date()

    # -- availability --

    async def service(self, code: str) -> models.CounterService:
        row = await self._session.scalar(
            select(models.CounterService).where(models.CounterService.code == code)
        )
        if row is None:
            raise NotFound(f"counter service {code!r} does not exist")
        return row

    def closed_reason(self, service: models.CounterService, day: date) -> str | None:
        """Why the counter is closed all day, or None if it opens."""
        reason = self._rules.closed_days.reason(day)
        if reason:
            return reason
        if not slot_starts(service, day):
            return WEEKLY_CLOSURE
        return None

    @property
    def last_day(self) -> date:
        """The last day that can be booked today."""
        return self._today + timedelta(days=self._rules.horizon_days)

    async def _free_slots(
        self, service: models.CounterService, first: date, last: date
    ) -> dict[date, list[CounterSlot]]:
        """The free slots of every open day from first to last, with one query."""
        first, last = max(first, self._today), min(last, self.last_day)
        if first > last:
            return {}
        taken = await self._taken_desks(
            service.id,
            datetime.combine(first, time(0), ROME),
            datetime.combine(last + timedelta(days=1), time(0), ROME),
        )
        earliest = self._now + self._rules.min_notice
        step = timedelta(minutes=service.slot_minutes)
        result: dict[date, list[CounterSlot]] = {}
        day = first
        while day <= last:
            if self.closed_reason(service, day) is None:
                slots = []
                for start in slot_starts(service, day):
                    free = service.desks - len(taken.get(start.astimezone(UTC), ()))
                    if start >= earliest and free > 0:
                        slots.append(CounterSlot(start, start + step, free))
                result[day] = slots
            day += timedelta(days=1)
        return result

    async def _taken_desks(
        self, service_id: int, start: datetime, end: datetime
    ) -> dict[datetime, set[int]]:
        rows = await self._session.execute(
            select(models.Appointment.starts_at, models.Appointment.desk).where(
                models.Appointment.service_id == service_id,
                models.Appointment.desk.is_not(None),
                models.Appointment.starts_at >= start,
                models.Appointment.starts_at < end,
            )
        )
        taken: dict[datetime, set[int]] = {}
        for starts_at, desk in rows:
            if desk is not None:
                taken.setdefault(starts_at.astimezone(UTC), set()).add(desk)
        return taken

    async def day_slots(self, code: str, day: date) -> DaySlots:
        service = await self.service(code)
        reason = self.closed_reason(service, day)
        if reason is not None:
            return DaySlots(day, True, reason, ())
        slots = (await self._free_slots(service, day, day)).get(day, [])
        return DaySlots(day, False, None, tuple(slots))

    async def available_days(
        self, code: str, start: date | None, count: int
    ) -> list[AvailableDay]:
        """The next `count` open days with a free slot, from `start` (today by default)."""
        service = await self.service(code)
        by_day = await self._free_slots(service, start or self._today, self.last_day)
        days = [
            AvailableDay(day, len(slots))
            for day, slots in sorted(by_day.items())
            if slots
        ]
        return days[:count]

    async def nearest(
        self, code: str, at: datetime | date, limit: int
    ) -> list[CounterSlot]:
        """The free slots nearest to a wanted time: that day first, then the next ones.

        On each day the slots nearest the wanted time of day come first; the chosen ones
        are returned in time order.
        """
        service = await self.service(code)
        return await self._nearest(service, at, limit)

    async def _nearest(
        self, service: models.CounterService, at: datetime | date, limit: int
    ) -> list[CounterSlot]:
        if isinstance(at, datetime):
            local = as_local(at)
            day, wanted = local.date(), local.time()
        else:
            day, wanted = at, None
        by_day = await self._free_slots(service, day, self.last_day)
        chosen: list[CounterSlot] = []
        for each_day, slots in sorted(by_day.items()):
            if wanted is not None:
                target = datetime.combine(each_day, wanted, ROME)
                slots = sorted(slots, key=lambda s: abs(s.starts_at - target))
            chosen.extend(slots[: limit - len(chosen)])
            if len(chosen) >= limit:
                break
        return sorted(chosen, key=lambda s: s.starts_at)

    def unbookable_reason(
        self, service: models.CounterService, starts_at: datetime
    ) -> str | None:
        """Why this time cannot be booked at this counter, or None if it is a real slot."""
        local = starts_at.astimezone(ROME)
        if local < self._now:
            return PAST
        closed = self.closed_reason(service, local.date())
        if closed is not None:
            return closed
        if local not in slot_starts(service, local.date()):
            return OUTSIDE_HOURS
        if local < self._now + self._rules.min_notice:
            minutes = int(self._rules.min_notice.total_seconds() // 60)
            return f"Si prenota almeno {minutes} minuti prima"
        if local.date() > self.last_day:
            return f"Si prenota al massimo {self._rules.horizon_days} giorni prima"
        return None

    async def _alternatives(
        self, service: models.CounterService, starts_at: datetime
    ) -> list[JSONObject]:
        return [slot.to_json() for slot in await self._nearest(service, starts_at, 3)]

    async def _check_bookable(
        self, service: models.CounterService, starts_at: datetime
    ) -> None:
        reason = self.unbookable_reason(service, starts_at)
        if reason is not None:
            raise SlotClosed(
                "no slot can be booked at that time",
                reason,
                await self._alternatives(service, starts_at),
            )

    async def _free_desk(
        self, service: models.CounterService, starts_at: datetime
    ) -> int:
        """The lowest free desk of the slot; SlotTaken, with alternatives, if none is."""
        taken = await self._taken_desks(
            service.id, starts_at, starts_at + timedelta(seconds=1)
        )
        busy = taken.get(starts_at.astimezone(UTC), set())
        for desk in range(1, service.desks + 1):
            if desk not in busy:
                return desk
        raise SlotTaken(
            "every desk of this slot is booked",
            "Posto già prenotato",
            await self._alternatives(service, starts_at),
        )

    # -- the citizen's bookings --

    async def book(
        self,
        channel_user: ChannelUser,
        key: str | None,
        service_code: str,
        starts_at: datetime,
        qr_url: QRUrl,
    ) -> tuple[int, JSONObject]:
        """Book the slot at the lowest free desk and commit; return (status, body).

        Once per Idempotency-Key when one is given: a retry gets the first answer, as long
        as that booking still stands. Cancelled or moved since, it is no answer to this
        request (the citizen would hold a ticket for nothing): the slot is booked anew.
        """
        citizen = await require_linked(self._session, channel_user)
        idempotency = IdempotencyRepository(self._session)
        fingerprint = request_fingerprint(
            {
                "appointment": {
                    "service": service_code,
                    "starts_at": starts_at.astimezone(UTC).isoformat(),
                }
            }
        )
        if key is not None:
            stored = await self._replay(idempotency, channel_user, key, fingerprint)
            if stored is not None:
                return stored
        for _ in range(MAX_ATTEMPTS):
            await self._lock_citizen(citizen.citizen_id)
            record = None
            if key is not None:
                record = await idempotency.reserve(
                    channel_user, key, fingerprint, self._now
                )
                if record is None:
                    # The same request, sent twice at once: the first one answers both.
                    stored = await self._replay(
                        idempotency, channel_user, key, fingerprint
                    )
                    if stored is None:  # pragma: no cover - the winner rolled back
                        continue
                    return stored
            service = await self.service(service_code)
            existing = await self._live_booking(citizen.citizen_id, service)
            if existing is not None:
                raise AlreadyBooked(_view(existing, service).to_json(qr_url))
            await self._check_bookable(service, starts_at)
            appointment = models.Appointment(
                code=new_appointment_code(),
                citizen_id=citizen.citizen_id,
                service_id=service.id,
                starts_at=starts_at,
                desk=await self._free_desk(service, starts_at),
                status=AppointmentStatus.PRENOTATO.value,
                created_at=self._now,
                updated_at=self._now,
            )
            self._session.add(appointment)
            try:
                await self._session.flush()
            except IntegrityError:
                # Someone took that desk (or the code) since we looked: look again.
                await self._session.rollback()
                continue
            body = _view(appointment, service).to_json(qr_url)
            if record is not None:
                record.status_code = 201
                record.response = body
            await self._session.commit()
            return 201, body
        raise Conflict("the slot is in great demand right now: try again")

    async def _replay(
        self,
        idempotency: IdempotencyRepository,
        channel_user: ChannelUser,
        key: str,
        fingerprint: str,
    ) -> tuple[int, JSONObject] | None:
        """The first answer to this key while the booking it made is still as it was."""
        stored = await idempotency.stored_response(
            channel_user, key, fingerprint, self._now
        )
        if stored is None:
            return None
        status, body = stored
        appointment = await self._session.scalar(
            select(models.Appointment).where(
                models.Appointment.code == str(body.get("code", ""))
            )
        )
        if (
            appointment is not None
            and appointment.status == AppointmentStatus.PRENOTATO
            and local_iso(appointment.starts_at) == body.get("starts_at")
        ):
            return status, body
        # Cancelled or moved since: forget the old answer, so this request books.
        await idempotency.forget(channel_user, key)
        return None

    async def list_for(self, channel_user: ChannelUser) -> list[AppointmentView]:
        """The citizen's live bookings that have not ended yet, soonest first."""
        citizen = await require_linked(self._session, channel_user)
        # No slot lasts a day; the exact end is checked below, with each service's length.
        rows = await self._session.execute(
            select(models.Appointment, models.CounterService)
            .join(models.CounterService)
            .where(
                models.Appointment.citizen_id == citizen.citizen_id,
                models.Appointment.status == AppointmentStatus.PRENOTATO.value,
                models.Appointment.starts_at > self._now - timedelta(days=1),
            )
            .order_by(models.Appointment.starts_at, models.Appointment.id)
        )
        views = [_view(appointment, service) for appointment, service in rows]
        return [view for view in views if view.ends_at > self._now]

    async def get_own(self, channel_user: ChannelUser, code: str) -> AppointmentView:
        appointment, service = await self._own(channel_user, code)
        return _view(appointment, service)

    async def move(
        self,
        channel_user: ChannelUser,
        code: str,
        starts_at: datetime,
    ) -> AppointmentView:
        """Move a booking to another slot, keeping its code, and commit.

        One UPDATE of the booking's row: the old place is given back only when the new one
        is taken, and if the new one is gone the booking stays where it was.
        """
        for _ in range(MAX_ATTEMPTS):
            appointment, service = await self._own(channel_user, code)
            self._check_changeable(appointment)
            if appointment.starts_at == starts_at:
                return _view(appointment, service)
            await self._check_bookable(service, starts_at)
            desk = await self._free_desk(service, starts_at)
            try:
                moved = await self._session.execute(
                    update(models.Appointment)
                    .where(
                        models.Appointment.id == appointment.id,
                        models.Appointment.status == AppointmentStatus.PRENOTATO.value,
                        models.Appointment.starts_at == appointment.starts_at,
                    )
                    .values(
                        starts_at=starts_at,
                        desk=desk,
                        reminded_at=None,
                        updated_at=self._now,
                    )
                    .execution_options(synchronize_session=False)
                )
            except IntegrityError:
                await self._session.rollback()
                continue
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                # Moved or cancelled meanwhile, from another chat: read it again.
                await self._session.rollback()
                continue
            await self._session.commit()
            await self._session.refresh(appointment)
            return _view(appointment, service)
        raise Conflict("the slot is in great demand right now: try again")

    async def cancel(self, channel_user: ChannelUser, code: str) -> AppointmentView:
        """Cancel a booking, giving its desk back; cancelling twice is no error."""
        appointment, service = await self._own(channel_user, code)
        if appointment.status == AppointmentStatus.ANNULLATO:
            return _view(appointment, service)
        self._check_changeable(appointment)
        await self._session.execute(
            update(models.Appointment)
            .where(
                models.Appointment.id == appointment.id,
                models.Appointment.status == AppointmentStatus.PRENOTATO.value,
            )
            .values(
                status=AppointmentStatus.ANNULLATO.value,
                desk=None,
                updated_at=self._now,
            )
            .execution_options(synchronize_session=False)
        )
        await self._session.commit()
        await self._session.refresh(appointment)
        return _view(appointment, service)

    def _check_changeable(self, appointment: models.Appointment) -> None:
        if appointment.status != AppointmentStatus.PRENOTATO:
            raise Conflict(f"the appointment is {appointment.status}")
        if appointment.starts_at <= self._now:
            raise Conflict("the appointment has already started")

    async def _own(
        self, channel_user: ChannelUser, code: str
    ) -> tuple[models.Appointment, models.CounterService]:
        """The booking with this code if it is the caller's; else AppointmentNotFound."""
        citizen = await require_linked(self._session, channel_user)
        row = (
            await self._session.execute(
                select(models.Appointment, models.CounterService)
                .join(models.CounterService)
                .where(
                    models.Appointment.code == normalise_appointment_code(code),
                    models.Appointment.citizen_id == citizen.citizen_id,
                )
            )
        ).first()
        if row is None:
            raise AppointmentNotFound()
        return row[0], row[1]

    async def _live_booking(
        self, citizen_id: int, service: models.CounterService
    ) -> models.Appointment | None:
        """The citizen's booking of this service that has not ended yet, if any."""
        return await self._session.scalar(
            select(models.Appointment)
            .where(
                models.Appointment.citizen_id == citizen_id,
                models.Appointment.service_id == service.id,
                models.Appointment.status == AppointmentStatus.PRENOTATO.value,
                models.Appointment.starts_at
                > self._now - timedelta(minutes=service.slot_minutes),
            )
            .order_by(models.Appointment.starts_at)
            .limit(1)
        )

    async def _lock_citizen(self, citizen_id: int) -> None:
        """Serialise one citizen's bookings, so two at once cannot both pass the checks."""
        if self._session.get_bind().dialect.name == "postgresql":
            await self._session.execute(
                select(models.Citizen.id)
                .where(models.Citizen.id == citizen_id)
                .with_for_update()
            )
        else:
            # SQLite has no row locks; a write takes the database's write lock until
            # commit, so the reads that follow see every booking committed before.
            await self._session.execute(
                update(models.Citizen)
                .where(models.Citizen.id == citizen_id)
                .values(id=models.Citizen.id)
                .execution_options(synchronize_session=False)
            )

    # -- the desk --

    async def verification(self, code: str) -> AppointmentView:
        """A booking by code, for the desk's verification page (the token is checked first)."""
        row = (
            await self._session.execute(
                select(models.Appointment, models.CounterService)
                .join(models.CounterService)
                .where(models.Appointment.code == normalise_appointment_code(code))
            )
        ).first()
        if row is None:
            raise AppointmentNotFound()
        return _view(row[0], row[1])


# --- reminders ------------------------------------------------------------------------


async def send_appointment_reminders(session: AsyncSession, now: datetime) -> int:
    """Append one appointment_reminder event per live booking of tomorrow (Rome's date).

    Each booking is reminded once: reminded_at is set by a conditional UPDATE, so two
    replicas running this at once cannot both remind it. The caller commits.
    """
    tomorrow = now.astimezone(ROME).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), ROME)
    end = datetime.combine(tomorrow + timedelta(days=1), time(0), ROME)
    rows = await session.execute(
        select(models.Appointment, models.CounterService)
        .join(models.CounterService)
        .where(
            models.Appointment.status == AppointmentStatus.PRENOTATO.value,
            models.Appointment.reminded_at.is_(None),
            models.Appointment.starts_at >= start,
            models.Appointment.starts_at < end,
        )
        .order_by(models.Appointment.starts_at, models.Appointment.id)
    )
    events = EventRepository(session)
    sent = 0
    for appointment, service in rows.all():
        marked = await session.execute(
            update(models.Appointment)
            .where(
                models.Appointment.id == appointment.id,
                models.Appointment.reminded_at.is_(None),
                models.Appointment.status == AppointmentStatus.PRENOTATO.value,
            )
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            continue
        await events.append(
            REMINDER_EVENT,
            _view(appointment, service).reminder_payload(),
            citizen_id=appointment.citizen_id,
        )
        sent += 1
    return sent


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
