"""HTTP handlers of counter appointments: free slots, bookings, reminders, the desk's page."""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from functools import partial

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.appkeys import CLOCK, SESSIONMAKER, SETTINGS
from backoffice.appointments import (
    ROME,
    AppointmentRepository,
    BookingRules,
    QRUrl,
    as_local,
    normalise_appointment_code,
    parse_day,
    parse_wanted_time,
    send_appointment_reminders,
    sign_appointment_token,
    verify_appointment_token,
)
from backoffice.errors import AppointmentNotFound, InvalidRequest
from backoffice.http.idempotency import idempotency_key
from backoffice.http.request import channel_user, file_secret, json_object, public_base_url
from backoffice.jobs import run_periodically
from backoffice.pages import comune_page
from sportello.formatting import long_date

log = logging.getLogger(__name__)

appointment_routes = web.RouteTableDef()

MAX_DAYS = 30
MAX_NEAREST = 10
# Reminders go out in daytime only, Rome time: nobody is woken by tomorrow's appointment.
REMINDER_HOURS = range(9, 20)
STATUS_LABELS = {
    "prenotato": "Prenotato",
    "annullato": "Annullato",
    "completato": "Completato",
}


def _now(request: web.Request) -> datetime:
    return request.app[CLOCK]()


def _repository(request: web.Request, session: AsyncSession) -> AppointmentRepository:
    return AppointmentRepository(
        session,
        BookingRules.from_settings(request.app[SETTINGS]),
        _now(request),
    )


def qr_url(request: web.Request) -> QRUrl:
    """The verification page of an appointment, signed so codes cannot be enumerated."""
    base, secret = public_base_url(request), file_secret(request)
    return (
        lambda code: f"{base}/appointments/verify/{code}"
        f"?t={sign_appointment_token(secret, code)}"
    )


def _count(request: web.Request, name: str, default: int, high: int) -> int:
    raw = request.query.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise InvalidRequest(f"{name} must be an integer between 1 and {high}")
    return int(raw)


def _day_query(request: web.Request, name: str, required: bool) -> date | None:
    raw = request.query.get(name, "")
    if not raw:
        if required:
            raise InvalidRequest(f"{name} (YYYY-MM-DD) is required")
        return None
    try:
        return parse_day(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be a date, YYYY-MM-DD") from None


def _date_time(body: dict[str, object], name: str, rule: str) -> datetime:
    """The body's `name`: an ISO date and time, Rome's wall clock if it has no offset."""
    try:
        wanted = parse_wanted_time(body.get(name))
    except ValueError:
        wanted = None
    if not isinstance(wanted, datetime):
        raise InvalidRequest(f"{name} must be {rule}")
    return wanted


def _starts_at(body: dict[str, object]) -> datetime:
    return _date_time(
        body, "starts_at", "an ISO date and time (Rome time if without offset)"
    )


# --- availability ---------------------------------------------------------------------


@appointment_routes.get("/v1/counter-services/{code}/days")
async def list_available_days(request: web.Request) -> web.Response:
    """The next open days with at least one free slot, and how many."""
    start = _day_query(request, "from", required=False)
    count = _count(request, "count", 5, MAX_DAYS)
    async with request.app[SESSIONMAKER]() as session:
        days = await _repository(request, session).available_days(
            request.match_info["code"], start, count
        )
    return web.json_response({"days": [day.to_json() for day in days]})


@appointment_routes.get("/v1/counter-services/{code}/slots")
async def list_day_slots(request: web.Request) -> web.Response:
    """One day of a counter: closed and why, or its free slots."""
    day = _day_query(request, "date", required=True)
    assert day is not None
    async with request.app[SESSIONMAKER]() as session:
        slots = await _repository(request, session).day_slots(
            request.match_info["code"], day
        )
    return web.json_response(slots.to_json())


@appointment_routes.get("/v1/counter-services/{code}/nearest")
async def list_nearest_slots(request: web.Request) -> web.Response:
    """The free slots nearest to a wanted time (or day): that day first, then the next."""
    try:
        at = parse_wanted_time(request.query.get("at"))
    except ValueError:
        raise InvalidRequest(
            "at must be an ISO date or date and time (Rome time if without offset)"
        ) from None
    limit = _count(request, "limit", 3, MAX_NEAREST)
    async with request.app[SESSIONMAKER]() as session:
        slots = await _repository(request, session).nearest(
            request.match_info["code"], at, limit
        )
    return web.json_response({"slots": [slot.to_json() for slot in slots]})


# --- bookings -------------------------------------------------------------------------


@appointment_routes.post("/v1/appointments")
async def book_appointment(request: web.Request) -> web.Response:
    """Book a slot for the linked citizen (once per Idempotency-Key, when given)."""
    user = channel_user(request)
    key = idempotency_key(request, required=False)
    body = await json_object(request)
    service = body.get("service")
    if not isinstance(service, str) or not service:
        raise InvalidRequest("service (a counter service code) is required")
    starts_at = _starts_at(body)
    async with request.app[SESSIONMAKER]() as session:
        status, response = await _repository(request, session).book(
            user, key, service, starts_at, qr_url(request)
        )
    return web.json_response(response, status=status)


@appointment_routes.get("/v1/appointments")
async def list_appointments(request: web.Request) -> web.Response:
    """The linked citizen's bookings that have not ended yet, soonest first."""
    user = channel_user(request)
    async with request.app[SESSIONMAKER]() as session:
        views = await _repository(request, session).list_for(user)
    render = qr_url(request)
    return web.json_response({"appointments": [view.to_json(render) for view in views]})


@appointment_routes.get("/v1/appointments/{code}")
async def get_appointment(request: web.Request) -> web.Response:
    """One of the linked citizen's bookings, whatever its status."""
    user = channel_user(request)
    async with request.app[SESSIONMAKER]() as session:
        view = await _repository(request, session).get_own(
            user, request.match_info["code"]
        )
    return web.json_response(view.to_json(qr_url(request)))


@appointment_routes.post("/v1/appointments/{code}/move")
async def move_appointment(request: web.Request) -> web.Response:
    """Move one's booking to another slot; same code, and nothing lost if it fails."""
    user = channel_user(request)
    starts_at = _starts_at(await json_object(request))
    async with request.app[SESSIONMAKER]() as session:
        view = await _repository(request, session).move(
            user, request.match_info["code"], starts_at
        )
    return web.json_response(view.to_json(qr_url(request)))


@appointment_routes.delete("/v1/appointments/{code}")
async def cancel_appointment(request: web.Request) -> web.Response:
    """Cancel one's booking (again is fine), giving the desk back."""
    user = channel_user(request)
    async with request.app[SESSIONMAKER]() as session:
        view = await _repository(request, session).cancel(
            user, request.match_info["code"]
        )
    return web.json_response(view.to_json(qr_url(request)))


# --- reminders ------------------------------------------------------------------------


@appointment_routes.post("/v1/jobs/appointment-reminders")
async def run_appointment_reminders(request: web.Request) -> web.Response:
    """Remind tomorrow's appointments now (`now` in the body pretends another time)."""
    body = await json_object(request) if request.body_exists else {}
    now = _now(request)
    if body.get("now") is not None:
        now = _date_time(body, "now", "an ISO date and time")
    async with request.app[SESSIONMAKER].begin() as session:
        count = await send_appointment_reminders(session, now.astimezone(UTC))
    return web.json_response({"count": count})


async def _remind_in_daytime(app: web.Application) -> None:
    now = app[CLOCK]()
    if now.astimezone(ROME).hour not in REMINDER_HOURS:
        return
    async with app[SESSIONMAKER].begin() as session:
        count = await send_appointment_reminders(session, now)
    if count:
        log.info("appointment reminders sent: %d", count)


async def _reminders(app: web.Application) -> AsyncIterator[None]:
    async with run_periodically(
        "appointment reminders",
        partial(_remind_in_daytime, app),
        app[SETTINGS].appointment_reminder_interval_seconds,
        leases=app[SESSIONMAKER],
    ):
        yield


# --- the desk's verification page -----------------------------------------------------

@appointment_routes.get("/appointments/verify/{code}")
async def verify_appointment(request: web.Request) -> web.Response:
    """The page the desk opens from the citizen's QR: service, day, time, desk, status."""
    comune = request.app[SETTINGS].comune_name
    code = normalise_appointment_code(request.match_info["code"])
    token = request.query.get("t", "")
    try:
        if not verify_appointment_token(file_secret(request), code, token):
            raise AppointmentNotFound()
        async with request.app[SESSIONMAKER]() as session:
            view = await _repository(request, session).verification(code)
    except AppointmentNotFound:
        body = (
            "<h2>Prenotazione non trovata</h2>"
            "<p>Questo codice non corrisponde a nessuna prenotazione. "
            "Chiedi al cittadino di mostrare la prenotazione dalla chat.</p>"
        )
        return comune_page(comune, "Prenotazione non trovata", body, status=404)
    starts, ends = as_local(view.starts_at), as_local(view.ends_at)
    status = STATUS_LABELS.get(view.status, view.status)
    desk = f"Sportello {view.desk}" if view.desk is not None else "—"
    body = (
        f"<h2>Prenotazione {html.escape(view.code)}: {html.escape(status)}</h2><dl>"
        f"<dt>Servizio</dt><dd>{html.escape(view.service_name)}</dd>"
        f"<dt>Dove</dt><dd>{html.escape(view.location)}</dd>"
        f"<dt>Giorno</dt><dd>{html.escape(long_date(starts.date()))}</dd>"
        f"<dt>Ora</dt><dd>{starts:%H:%M}–{ends:%H:%M}</dd>"
        f"<dt>Sportello</dt><dd>{html.escape(desk)}</dd>"
        f"<dt>Stato</dt><dd>{html.escape(status)}</dd></dl>"
    )
    return comune_page(
        comune,
        f"Prenotazione {view.code}",
        body,
        headers={"Cache-Control": "private, no-store"},
    )


def setup_appointments(app: web.Application) -> None:
    """Add the appointment routes and the hourly reminders (after the database's context)."""
    app.add_routes(appointment_routes)
    app.cleanup_ctx.append(_reminders)
