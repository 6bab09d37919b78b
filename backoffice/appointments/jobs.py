"""The reminder the day before: one `appointment_reminder` event per live booking of tomorrow,
run hourly in daytime (under a lease, one replica at a time) or by `POST /v1/jobs/…`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from functools import partial

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.appkeys import CLOCK, SESSIONMAKER, SETTINGS
from backoffice.appointments import domain
from backoffice.appointments.repository import AppointmentRepository, view
from backoffice.db import UnitOfWork
from backoffice.events.repository import EventRepository
from backoffice.jobs import run_periodically
from sportello.clock import ROME

log = logging.getLogger(__name__)


async def send_reminders(uow: UnitOfWork, now: datetime) -> int:
    """Remind tomorrow's (Rome's date) live bookings, each once, and commit; how many."""
    async with uow:
        count = await send_appointment_reminders(uow.session, now)
        await uow.commit()
    return count


async def send_appointment_reminders(session: AsyncSession, now: datetime) -> int:
    """Append one appointment_reminder event per live booking of tomorrow (Rome's date).

    Each booking is reminded once: reminded_at is set by a conditional UPDATE, so two
    replicas running this at once cannot both remind it. The caller commits.
    """
    tomorrow = now.astimezone(ROME).date() + timedelta(days=1)
    bookings = AppointmentRepository(session)
    rows = await bookings.to_remind(domain.day_start(tomorrow), domain.day_start(tomorrow + timedelta(days=1)))
    events = EventRepository(session)
    sent = 0
    for appointment, service in rows:
        if not await bookings.mark_reminded(appointment, now):
            continue
        await events.append(
            domain.REMINDER_EVENT, view(appointment, service).reminder_payload(), citizen_id=appointment.citizen_id
        )
        sent += 1
    return sent


async def _remind_in_daytime(app: web.Application) -> None:
    now = app[CLOCK]()
    if now.astimezone(ROME).hour not in domain.REMINDER_HOURS:
        return
    count = await send_reminders(UnitOfWork(app[SESSIONMAKER]), now)
    if count:
        log.info("appointment reminders sent: %d", count)


async def reminder_job(app: web.Application) -> AsyncIterator[None]:
    """Remind tomorrow's appointments every APPOINTMENT_REMINDER_INTERVAL_SECONDS (hourly)."""
    async with run_periodically(
        "appointment reminders",
        partial(_remind_in_daytime, app),
        app[SETTINGS].appointment_reminder_interval_seconds,
        leases=app[SESSIONMAKER],
    ):
        yield
