"""Counter services, their free slots, bookings, the reminder job."""

from __future__ import annotations

from datetime import date, datetime

from backend_client.models.appointments import (
    Appointment,
    AppointmentSlot,
    AvailableDay,
    CounterService,
    DaySlots,
    DeskStatus,
    DeskStatusChange,
)
from backend_client.transport import (
    Transport,
    new_idempotency_key,
    parse,
    parse_list,
    segment,
)


class AppointmentsAPI:
    """`client.appointments`: counter services, their free slots, bookings, the reminder job."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def services(self) -> list[CounterService]:
        """Every counter service with its opening hours."""
        body = await self._transport.request("GET", "/v1/counter-services")
        return parse_list(body, "counter_services", CounterService)

    async def service(self, code: str) -> CounterService:
        """One counter service; NotFound if the code is unknown."""
        body = await self._transport.request("GET", f"/v1/counter-services/{segment(code)}")
        return parse(body, CounterService)

    async def available_days(
        self, code: str, start: date | None = None, count: int = 5
    ) -> list[AvailableDay]:
        """The next `count` open days with a free slot at a counter, from `start` (today)."""
        params: dict[str, str | int] = {"count": count}
        if start is not None:
            params["from"] = start.isoformat()
        body = await self._transport.request(
            "GET", f"/v1/counter-services/{segment(code)}/days", params=params
        )
        return parse_list(body, "days", AvailableDay)

    async def day_slots(self, code: str, day: date) -> DaySlots:
        """One day of a counter: closed with the reason, or its free slots (none if full)."""
        body = await self._transport.request(
            "GET",
            f"/v1/counter-services/{segment(code)}/slots",
            params={"date": day.isoformat()},
        )
        return parse(body, DaySlots)

    async def nearest_slots(
        self, code: str, at: datetime | date, limit: int = 3
    ) -> list[AppointmentSlot]:
        """The free slots nearest to a wanted time or day: that day first, then the next ones.

        A datetime without an offset is Rome's wall clock; the slots come in time order.
        """
        body = await self._transport.request(
            "GET",
            f"/v1/counter-services/{segment(code)}/nearest",
            params={"at": at.isoformat(), "limit": limit},
        )
        return parse_list(body, "slots", AppointmentSlot)

    async def book(
        self,
        channel_user: str,
        service: str,
        starts_at: datetime,
        idempotency_key: str | None = None,
    ) -> Appointment:
        """Book the slot starting at `starts_at` (Rome's wall clock if without offset).

        SlotTaken or SlotClosed with `.alternatives` and `.reason`; AlreadyBooked with
        `.existing`; NotLinked; NotFound for an unknown service.
        """
        # Retried on connection errors with the same key: the back office books once per
        # key, so a lost answer cannot book twice.
        body = await self._transport.request(
            "POST",
            "/v1/appointments",
            json={"service": service, "starts_at": starts_at.isoformat()},
            channel_user=channel_user,
            idempotency_key=idempotency_key or new_idempotency_key(),
            retry_on_connection_errors=True,
        )
        return parse(body, Appointment)

    async def mine(self, channel_user: str) -> list[Appointment]:
        """The linked citizen's bookings that have not ended yet, soonest first; NotLinked."""
        body = await self._transport.request("GET", "/v1/appointments", channel_user=channel_user)
        return parse_list(body, "appointments", Appointment)

    async def get(self, channel_user: str, code: str) -> Appointment:
        """One of the citizen's bookings by code, whatever its status; AppointmentNotFound."""
        body = await self._transport.request(
            "GET", f"/v1/appointments/{segment(code)}", channel_user=channel_user
        )
        return parse(body, Appointment)

    async def move(
        self, channel_user: str, code: str, starts_at: datetime
    ) -> Appointment:
        """Move one's booking to another slot; same code. If the new slot is gone the
        booking stays where it was (SlotTaken, SlotClosed); AppointmentNotFound.
        """
        # Moving to the same time twice is a no-op, so a lost answer may be retried.
        body = await self._transport.request(
            "POST",
            f"/v1/appointments/{segment(code)}/move",
            json={"starts_at": starts_at.isoformat()},
            channel_user=channel_user,
            retry_on_connection_errors=True,
        )
        return parse(body, Appointment)

    async def cancel(self, channel_user: str, code: str) -> Appointment:
        """Cancel one's booking (cancelling again is no error); the cancelled booking."""
        body = await self._transport.request(
            "DELETE",
            f"/v1/appointments/{segment(code)}",
            channel_user=channel_user,
            retry_on_connection_errors=True,
        )
        return parse(body, Appointment)

    async def set_desk_status(self, code: str, status: DeskStatus) -> DeskStatusChange:
        """The desk checks the citizen in (presente), marks them served (completato) or
        absent (non_presentato). The same status again changes nothing (`changed` False),
        so a lost answer may be retried; InvalidTransition (message in Italian) off the
        desk's lifecycle, AppointmentNotFound for an unknown code.
        """
        body = await self._transport.request(
            "POST",
            f"/v1/staff/appointments/{segment(code)}/status",
            json={"status": status},
            retry_on_connection_errors=True,
        )
        return parse(body, DeskStatusChange)

    async def run_reminders(self, now: datetime | None = None) -> int:
        """Remind tomorrow's appointments (as of `now`, default the back office's clock).

        Returns how many reminders were queued; each booking is reminded once.
        """
        payload = {"now": now.isoformat()} if now is not None else {}
        return await self._transport.run_job("/v1/jobs/appointment-reminders", payload, "count")
