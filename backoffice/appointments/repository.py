"""Rows of the counters and their bookings, to and from the area's plain data.

Two citizens racing for the last desk of a slot both try to INSERT it; the unique constraint
on (service, start, desk) lets exactly one win, and `add` says which.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.appointments.codes import normalise_appointment_code
from backoffice.appointments.domain import AppointmentNotFound, OfficeHours
from backoffice.appointments.schemas import AppointmentView, CounterService, OpeningHours, local_iso
from backoffice.db import models
from backoffice.db.models import AppointmentStatus
from backoffice.errors import NotFound

Booking = tuple[models.Appointment, models.CounterService]


def view(appointment: models.Appointment, service: models.CounterService) -> AppointmentView:
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


def office_hours(service: models.CounterService) -> OfficeHours:
    return OfficeHours(tuple(service.opening_hours), service.slot_minutes, service.desks)


def counter_service(row: models.CounterService) -> CounterService:
    return CounterService(
        code=row.code,
        name=row.name,
        description=row.description,
        location=row.location,
        slot_minutes=row.slot_minutes,
        desks=row.desks,
        opening_hours=tuple(
            OpeningHours(weekday=int(h["weekday"]), opens=h["opens"], closes=h["closes"])
            for h in row.opening_hours
        ),
        requirements=tuple(str(item) for item in row.requirements or ()),
        fee_cents=row.fee_cents,
        fee_note=row.fee_note,
    )


class CounterServiceRepository:
    """Counter services (sportelli) and their opening hours."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def row(self, code: str) -> models.CounterService:
        row = await self._session.scalar(
            select(models.CounterService).where(models.CounterService.code == code)
        )
        if row is None:
            raise NotFound(f"counter service {code!r} does not exist")
        return row

    async def list(self) -> list[CounterService]:
        rows = await self._session.scalars(select(models.CounterService).order_by(models.CounterService.code))
        return [counter_service(row) for row in rows]

    async def get(self, code: str) -> CounterService:
        return counter_service(await self.row(code))


class AppointmentRepository:
    """The citizens' bookings: the only rows the slot calendar has."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def taken_desks(
        self, service_id: int, start: datetime, end: datetime
    ) -> dict[datetime, set[int]]:
        """The desks booked at each slot start (UTC) from start to end."""
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

    async def add(self, appointment: models.Appointment) -> bool:
        """Insert a booking; False if its desk (or its code) was taken meanwhile.

        On False the transaction was rolled back: the caller reads again and retries.
        """
        self._session.add(appointment)
        try:
            await self._session.flush()
        except IntegrityError:
            await self._session.rollback()
            return False
        return True

    async def by_code(self, code: str) -> Booking | None:
        row = (
            await self._session.execute(
                select(models.Appointment, models.CounterService)
                .join(models.CounterService)
                .where(models.Appointment.code == normalise_appointment_code(code))
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def of_citizen(self, citizen_id: int, code: str) -> Booking:
        """The booking with this code if it is the citizen's; else AppointmentNotFound."""
        found = await self.by_code(code)
        if found is None or found[0].citizen_id != citizen_id:
            raise AppointmentNotFound()
        return found

    async def live_since(self, citizen_id: int, since: datetime) -> list[Booking]:
        """The citizen's live bookings starting after `since`, soonest first."""
        rows = await self._session.execute(
            select(models.Appointment, models.CounterService)
            .join(models.CounterService)
            .where(
                models.Appointment.citizen_id == citizen_id,
                models.Appointment.status == AppointmentStatus.PRENOTATO.value,
                models.Appointment.starts_at > since,
            )
            .order_by(models.Appointment.starts_at, models.Appointment.id)
        )
        return [(appointment, service) for appointment, service in rows]

    async def live_booking(
        self, citizen_id: int, service: models.CounterService, now: datetime
    ) -> models.Appointment | None:
        """The citizen's booking of this service that has not ended yet, if any."""
        return await self._session.scalar(
            select(models.Appointment)
            .where(
                models.Appointment.citizen_id == citizen_id,
                models.Appointment.service_id == service.id,
                models.Appointment.status == AppointmentStatus.PRENOTATO.value,
                models.Appointment.starts_at > now - timedelta(minutes=service.slot_minutes),
            )
            .order_by(models.Appointment.starts_at)
            .limit(1)
        )

    async def is_still(self, code: str, starts_at_iso: str) -> bool:
        """True if the booking with this code is live and starts when the ISO time says."""
        appointment = await self._session.scalar(
            select(models.Appointment).where(models.Appointment.code == code)
        )
        return (
            appointment is not None
            and appointment.status == AppointmentStatus.PRENOTATO
            and local_iso(appointment.starts_at) == starts_at_iso
        )

    async def move(
        self, appointment: models.Appointment, starts_at: datetime, desk: int, now: datetime
    ) -> bool:
        """Move a live booking with one UPDATE; False (rolled back) if someone moved it, or
        took the new desk, meanwhile."""
        try:
            moved = await self._session.execute(
                update(models.Appointment)
                .where(
                    models.Appointment.id == appointment.id,
                    models.Appointment.status == AppointmentStatus.PRENOTATO.value,
                    models.Appointment.starts_at == appointment.starts_at,
                )
                .values(starts_at=starts_at, desk=desk, reminded_at=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        except IntegrityError:
            await self._session.rollback()
            return False
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            await self._session.rollback()
            return False
        return True

    async def cancel(self, appointment: models.Appointment, now: datetime) -> None:
        """Cancel a live booking, giving its desk back."""
        await self._session.execute(
            update(models.Appointment)
            .where(
                models.Appointment.id == appointment.id,
                models.Appointment.status == AppointmentStatus.PRENOTATO.value,
            )
            .values(status=AppointmentStatus.ANNULLATO.value, desk=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    async def set_status(
        self, appointment: models.Appointment, from_status: str, to: str, now: datetime
    ) -> bool:
        """Set the desk status if the booking is still `from_status`; False if it changed."""
        changed = await self._session.execute(
            update(models.Appointment)
            .where(models.Appointment.id == appointment.id, models.Appointment.status == from_status)
            .values(status=to, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(changed.rowcount == 1)  # type: ignore[attr-defined]

    async def refresh(self, appointment: models.Appointment) -> None:
        await self._session.refresh(appointment)

    async def to_remind(self, start: datetime, end: datetime) -> list[Booking]:
        """The live bookings from start to end not reminded yet."""
        rows = await self._session.execute(
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
        return [(appointment, service) for appointment, service in rows.all()]

    async def mark_reminded(self, appointment: models.Appointment, now: datetime) -> bool:
        """Set reminded_at once: False if another replica reminded it (or it changed)."""
        marked = await self._session.execute(
            update(models.Appointment)
            .where(
                models.Appointment.id == appointment.id,
                models.Appointment.reminded_at.is_(None),
                models.Appointment.status == AppointmentStatus.PRENOTATO.value,
            )
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(marked.rowcount == 1)  # type: ignore[attr-defined]

    async def lock_citizen(self, citizen_id: int) -> None:
        """Serialise one citizen's bookings, so two at once cannot both pass the checks."""
        if self._session.get_bind().dialect.name == "postgresql":
            await self._session.execute(
                select(models.Citizen.id).where(models.Citizen.id == citizen_id).with_for_update()
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
