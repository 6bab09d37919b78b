"""Counter use cases: the services and their closed days, free days and slots, the nearest
slots, a booking (once per Idempotency-Key), the citizen's list, a move, a cancellation, the
desk's verification and the desk status. Each owns its unit of work."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from backoffice.appointments import codes, domain
from backoffice.appointments.domain import (
    AlreadyBooked,
    AppointmentNotFound,
    BookingRules,
    Calendar,
    SlotClosed,
    SlotTaken,
)
from backoffice.appointments.repository import (
    AppointmentRepository,
    CounterServiceRepository,
    office_hours,
    view,
)
from backoffice.appointments.schemas import (
    AppointmentView,
    AvailableDay,
    Closure,
    CounterService,
    CounterSlot,
    DaySlots,
    DeskStatusChange,
    QRUrl,
)
from backoffice.db import UnitOfWork, models
from backoffice.db.models import AppointmentStatus
from backoffice.errors import Conflict
from backoffice.events.repository import EventRepository
from backoffice.http.idempotency import IdempotencyRepository, request_fingerprint
from backoffice.identity.domain import ChannelUser
from backoffice.identity.services import require_linked
from backoffice.schemas import JSONObject

BUSY = "the slot is in great demand right now: try again"


# --- counter services and their calendar ----------------------------------------------


def closures(rules: BookingRules, today: date) -> list[Closure]:
    """The holidays and the comune's closing days from today for CLOSURE_DAYS days."""
    return rules.closed_days.ahead(today, domain.CLOSURE_DAYS)


async def counter_services(uow: UnitOfWork) -> list[CounterService]:
    async with uow:
        return await CounterServiceRepository(uow.session).list()


async def counter_service(uow: UnitOfWork, code: str) -> CounterService:
    async with uow:
        return await CounterServiceRepository(uow.session).get(code)


async def _free_slots(
    bookings: AppointmentRepository, service: models.CounterService, calendar: Calendar, first: date, last: date
) -> dict[date, list[CounterSlot]]:
    """The free slots of every bookable open day from first to last, with one query."""
    window = calendar.window(first, last)
    if window is None:
        return {}
    first, last = window
    taken = await bookings.taken_desks(
        service.id, domain.day_start(first), domain.day_start(last + timedelta(days=1))
    )
    return calendar.free_slots(first, last, taken)


async def day_slots(uow: UnitOfWork, rules: BookingRules, now: datetime, code: str, day: date) -> DaySlots:
    """One day of a counter: closed and why, or its free slots."""
    async with uow:
        service = await CounterServiceRepository(uow.session).row(code)
        calendar = Calendar(rules, office_hours(service), now)
        reason = calendar.closed_reason(day)
        if reason is not None:
            return DaySlots(day, True, reason, ())
        by_day = await _free_slots(AppointmentRepository(uow.session), service, calendar, day, day)
    return DaySlots(day, False, None, tuple(by_day.get(day, [])))


async def available_days(
    uow: UnitOfWork, rules: BookingRules, now: datetime, code: str, start: date | None, count: int
) -> list[AvailableDay]:
    """The next `count` open days with a free slot, from `start` (today by default)."""
    async with uow:
        service = await CounterServiceRepository(uow.session).row(code)
        calendar = Calendar(rules, office_hours(service), now)
        by_day = await _free_slots(
            AppointmentRepository(uow.session), service, calendar, start or calendar.today, calendar.last_day
        )
    days = [AvailableDay(day, len(slots)) for day, slots in sorted(by_day.items()) if slots]
    return days[:count]


async def _nearest(
    bookings: AppointmentRepository, service: models.CounterService, calendar: Calendar,
    at: datetime | date, limit: int,
) -> list[CounterSlot]:
    if isinstance(at, datetime):
        wanted = domain.as_local(at)
        day, at_time = wanted.date(), wanted.time()
    else:
        day, at_time = at, None
    by_day = await _free_slots(bookings, service, calendar, day, calendar.last_day)
    return domain.nearest(by_day, at_time, limit)


async def nearest(
    uow: UnitOfWork, rules: BookingRules, now: datetime, code: str, at: datetime | date, limit: int
) -> list[CounterSlot]:
    """The free slots nearest to a wanted time (or day): that day first, then the next ones."""
    async with uow:
        service = await CounterServiceRepository(uow.session).row(code)
        calendar = Calendar(rules, office_hours(service), now)
        return await _nearest(AppointmentRepository(uow.session), service, calendar, at, limit)


async def _check_bookable(
    bookings: AppointmentRepository, service: models.CounterService, calendar: Calendar, starts_at: datetime
) -> int:
    """The lowest free desk at that time; SlotClosed or SlotTaken, with alternatives."""
    reason = calendar.unbookable_reason(starts_at)
    if reason is not None:
        raise SlotClosed(
            "no slot can be booked at that time",
            reason,
            [slot.to_json() for slot in await _nearest(bookings, service, calendar, starts_at, 3)],
        )
    taken = await bookings.taken_desks(service.id, starts_at, starts_at + timedelta(seconds=1))
    desk = calendar.free_desk(taken.get(starts_at.astimezone(UTC), set()))
    if desk is None:
        raise SlotTaken(
            "every desk of this slot is booked",
            domain.SLOT_TAKEN,
            [slot.to_json() for slot in await _nearest(bookings, service, calendar, starts_at, 3)],
        )
    return desk


# --- the citizen's bookings -----------------------------------------------------------


async def book(
    uow: UnitOfWork,
    rules: BookingRules,
    now: datetime,
    user: ChannelUser,
    key: str | None,
    service_code: str,
    starts_at: datetime,
    qr_url: QRUrl,
) -> tuple[int, JSONObject]:
    """Book the slot at the lowest free desk; (status, body).

    Once per Idempotency-Key when one is given: a retry gets the first answer, as long as
    that booking still stands. Cancelled or moved since, it is no answer to this request
    (the citizen would hold a ticket for nothing): the slot is booked anew.
    """
    fingerprint = request_fingerprint(
        {"appointment": {"service": service_code, "starts_at": starts_at.astimezone(UTC).isoformat()}}
    )
    async with uow:
        session = uow.session
        citizen = await require_linked(session, user)
        idempotency = IdempotencyRepository(session)
        bookings = AppointmentRepository(session)
        if key is not None:
            stored = await _replay(idempotency, bookings, user, key, fingerprint, now)
            if stored is not None:
                return stored
        for _ in range(domain.MAX_ATTEMPTS):
            await bookings.lock_citizen(citizen.citizen_id)
            record = None
            if key is not None:
                record = await idempotency.reserve(user, key, fingerprint, now)
                if record is None:
                    # The same request, sent twice at once: the first one answers both.
                    stored = await _replay(idempotency, bookings, user, key, fingerprint, now)
                    if stored is None:  # pragma: no cover - the winner rolled back
                        continue
                    return stored
            service = await CounterServiceRepository(session).row(service_code)
            existing = await bookings.live_booking(citizen.citizen_id, service, now)
            if existing is not None:
                raise AlreadyBooked(view(existing, service).to_json(qr_url))
            calendar = Calendar(rules, office_hours(service), now)
            desk = await _check_bookable(bookings, service, calendar, starts_at)
            appointment = models.Appointment(
                code=codes.new_appointment_code(),
                citizen_id=citizen.citizen_id,
                service_id=service.id,
                starts_at=starts_at,
                desk=desk,
                status=AppointmentStatus.PRENOTATO.value,
                created_at=now,
                updated_at=now,
            )
            if not await bookings.add(appointment):
                continue  # someone took that desk (or the code) since we looked: look again
            body = view(appointment, service).to_json(qr_url)
            if record is not None:
                record.status_code = 201
                record.response = body
            await uow.commit()
            return 201, body
    raise Conflict(BUSY)


async def _replay(
    idempotency: IdempotencyRepository,
    bookings: AppointmentRepository,
    user: ChannelUser,
    key: str,
    fingerprint: str,
    now: datetime,
) -> tuple[int, JSONObject] | None:
    """The first answer to this key while the booking it made is still as it was."""
    stored = await idempotency.stored_response(user, key, fingerprint, now)
    if stored is None:
        return None
    status, body = stored
    if await bookings.is_still(str(body.get("code", "")), str(body.get("starts_at"))):
        return status, body
    # Cancelled or moved since: forget the old answer, so this request books.
    await idempotency.forget(user, key)
    return None


async def list_for(uow: UnitOfWork, now: datetime, user: ChannelUser) -> list[AppointmentView]:
    """The citizen's live bookings that have not ended yet, soonest first."""
    async with uow:
        citizen = await require_linked(uow.session, user)
        # No slot lasts a day; the exact end is checked below, with each service's length.
        rows = await AppointmentRepository(uow.session).live_since(citizen.citizen_id, now - timedelta(days=1))
        views = [view(appointment, service) for appointment, service in rows]
    return [each for each in views if each.ends_at > now]


async def get_own(uow: UnitOfWork, user: ChannelUser, code: str) -> AppointmentView:
    async with uow:
        citizen = await require_linked(uow.session, user)
        return view(*await AppointmentRepository(uow.session).of_citizen(citizen.citizen_id, code))


async def move(
    uow: UnitOfWork, rules: BookingRules, now: datetime, user: ChannelUser, code: str, starts_at: datetime
) -> AppointmentView:
    """Move a booking to another slot, keeping its code.

    One UPDATE of the booking's row: the old place is given back only when the new one is
    taken, and if the new one is gone the booking stays where it was.
    """
    async with uow:
        bookings = AppointmentRepository(uow.session)
        for _ in range(domain.MAX_ATTEMPTS):
            citizen = await require_linked(uow.session, user)
            appointment, service = await bookings.of_citizen(citizen.citizen_id, code)
            problem = domain.changeable_error(appointment.status, appointment.starts_at, now)
            if problem is not None:
                raise Conflict(problem)
            if appointment.starts_at == starts_at:
                return view(appointment, service)
            calendar = Calendar(rules, office_hours(service), now)
            desk = await _check_bookable(bookings, service, calendar, starts_at)
            if not await bookings.move(appointment, starts_at, desk, now):
                continue  # moved or cancelled meanwhile, from another chat: read it again
            await uow.commit()
            await bookings.refresh(appointment)
            return view(appointment, service)
    raise Conflict(BUSY)


async def cancel(uow: UnitOfWork, now: datetime, user: ChannelUser, code: str) -> AppointmentView:
    """Cancel a booking, giving its desk back; cancelling twice is no error."""
    async with uow:
        citizen = await require_linked(uow.session, user)
        bookings = AppointmentRepository(uow.session)
        appointment, service = await bookings.of_citizen(citizen.citizen_id, code)
        if appointment.status == AppointmentStatus.ANNULLATO:
            return view(appointment, service)
        problem = domain.changeable_error(appointment.status, appointment.starts_at, now)
        if problem is not None:
            raise Conflict(problem)
        await bookings.cancel(appointment, now)
        await uow.commit()
        await bookings.refresh(appointment)
        return view(appointment, service)


# --- the desk -------------------------------------------------------------------------


async def verification(uow: UnitOfWork, code: str) -> AppointmentView:
    """A booking by code, for the desk's verification page (the token is checked first)."""
    async with uow:
        found = await AppointmentRepository(uow.session).by_code(code)
        if found is None:
            raise AppointmentNotFound()
        return view(*found)


async def set_desk_status(uow: UnitOfWork, now: datetime, code: str, to: AppointmentStatus) -> DeskStatusChange:
    """The desk checks the citizen in, marks them served or absent; setting it again is no-op.

    Each change appends an `appointment_status_changed` event to the citizen's history.
    """
    async with uow:
        bookings = AppointmentRepository(uow.session)
        for _ in range(domain.MAX_ATTEMPTS):
            found = await bookings.by_code(code)
            if found is None:
                raise AppointmentNotFound()
            appointment, service = found
            current = appointment.status
            if not domain.check_desk_transition(current, to, appointment.starts_at, now):
                return DeskStatusChange(view(appointment, service), current, changed=False)
            if not await bookings.set_status(appointment, current, to.value, now):
                await uow.rollback()  # changed meanwhile, at another desk: read it again
                continue
            await uow.session.refresh(appointment)
            change = DeskStatusChange(view(appointment, service), current, changed=True)
            await EventRepository(uow.session).append(
                domain.STATUS_EVENT,
                change.event_payload(domain.STATUS_LABELS[to]),
                citizen_id=appointment.citizen_id,
            )
            await uow.commit()
            return change
    raise Conflict(BUSY)
