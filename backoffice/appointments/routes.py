"""HTTP of the counters: services, free days and slots, bookings, the desk status, reminders,
and the desk's verification page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import aiohttp_jinja2
from aiohttp import web

from backoffice.appkeys import SETTINGS
from backoffice.appointments import codes, domain, jobs, services
from backoffice.appointments.domain import AppointmentNotFound, BookingRules
from backoffice.appointments.schemas import QRUrl
from backoffice.errors import InvalidRequest
from backoffice.http.idempotency import idempotency_key
from backoffice.http.request import (
    channel_user,
    file_secret,
    json_object,
    now,
    public_base_url,
    today,
    unit_of_work,
)
from sportello.formatting import long_date

appointment_routes = web.RouteTableDef()

MAX_DAYS = 30
MAX_NEAREST = 10


def rules(request: web.Request) -> BookingRules:
    return BookingRules.from_settings(request.app[SETTINGS])


def qr_url(request: web.Request) -> QRUrl:
    """The verification page of an appointment, signed so codes cannot be enumerated."""
    base, secret = public_base_url(request), file_secret(request)
    return lambda code: f"{base}/appointments/verify/{code}?t={codes.sign_appointment_token(secret, code)}"


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
        return domain.parse_day(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be a date, YYYY-MM-DD") from None


def _date_time(body: dict[str, object], name: str, rule: str) -> datetime:
    """The body's `name`: an ISO date and time, Rome's wall clock if it has no offset."""
    try:
        wanted = domain.parse_wanted_time(body.get(name))
    except ValueError:
        wanted = None
    if not isinstance(wanted, datetime):
        raise InvalidRequest(f"{name} must be {rule}")
    return wanted


def _starts_at(body: dict[str, object]) -> datetime:
    return _date_time(body, "starts_at", "an ISO date and time (Rome time if without offset)")


# --- counter services -----------------------------------------------------------------


@appointment_routes.get("/v1/counter-services")
async def list_counter_services(request: web.Request) -> web.Response:
    """List every counter service with its opening hours and closed days."""
    listed = await services.counter_services(unit_of_work(request))
    # Every counter closes on the same days; each service carries them so that a service
    # looks the same listed or fetched alone.
    closures = [closure.to_json() for closure in services.closures(rules(request), today(request))]
    return web.json_response(
        {"counter_services": [{**service.to_json(), "closures": closures} for service in listed]}
    )


@appointment_routes.get("/v1/counter-services/{code}")
async def get_counter_service(request: web.Request) -> web.Response:
    """Return one counter service by code, with its closed days of the next two weeks."""
    service = await services.counter_service(unit_of_work(request), request.match_info["code"])
    closures = [closure.to_json() for closure in services.closures(rules(request), today(request))]
    return web.json_response({**service.to_json(), "closures": closures})


@appointment_routes.get("/v1/counter-services/{code}/days")
async def list_available_days(request: web.Request) -> web.Response:
    """The next open days with at least one free slot, and how many."""
    start = _day_query(request, "from", required=False)
    count = _count(request, "count", 5, MAX_DAYS)
    days = await services.available_days(
        unit_of_work(request), rules(request), now(request), request.match_info["code"], start, count
    )
    return web.json_response({"days": [day.to_json() for day in days]})


@appointment_routes.get("/v1/counter-services/{code}/slots")
async def list_day_slots(request: web.Request) -> web.Response:
    """One day of a counter: closed and why, or its free slots."""
    day = _day_query(request, "date", required=True)
    assert day is not None
    slots = await services.day_slots(
        unit_of_work(request), rules(request), now(request), request.match_info["code"], day
    )
    return web.json_response(slots.to_json())


@appointment_routes.get("/v1/counter-services/{code}/nearest")
async def list_nearest_slots(request: web.Request) -> web.Response:
    """The free slots nearest to a wanted time (or day): that day first, then the next."""
    try:
        at = domain.parse_wanted_time(request.query.get("at"))
    except ValueError:
        raise InvalidRequest("at must be an ISO date or date and time (Rome time if without offset)") from None
    limit = _count(request, "limit", 3, MAX_NEAREST)
    slots = await services.nearest(
        unit_of_work(request), rules(request), now(request), request.match_info["code"], at, limit
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
    status, response = await services.book(
        unit_of_work(request), rules(request), now(request), user, key, service, starts_at, qr_url(request)
    )
    return web.json_response(response, status=status)


@appointment_routes.get("/v1/appointments")
async def list_appointments(request: web.Request) -> web.Response:
    """The linked citizen's bookings that have not ended yet, soonest first."""
    views = await services.list_for(unit_of_work(request), now(request), channel_user(request))
    render = qr_url(request)
    return web.json_response({"appointments": [each.to_json(render) for each in views]})


@appointment_routes.get("/v1/appointments/{code}")
async def get_appointment(request: web.Request) -> web.Response:
    """One of the linked citizen's bookings, whatever its status."""
    view = await services.get_own(unit_of_work(request), channel_user(request), request.match_info["code"])
    return web.json_response(view.to_json(qr_url(request)))


@appointment_routes.post("/v1/appointments/{code}/move")
async def move_appointment(request: web.Request) -> web.Response:
    """Move one's booking to another slot; same code, and nothing lost if it fails."""
    user = channel_user(request)
    starts_at = _starts_at(await json_object(request))
    view = await services.move(
        unit_of_work(request), rules(request), now(request), user, request.match_info["code"], starts_at
    )
    return web.json_response(view.to_json(qr_url(request)))


@appointment_routes.delete("/v1/appointments/{code}")
async def cancel_appointment(request: web.Request) -> web.Response:
    """Cancel one's booking (again is fine), giving the desk back."""
    view = await services.cancel(
        unit_of_work(request), now(request), channel_user(request), request.match_info["code"]
    )
    return web.json_response(view.to_json(qr_url(request)))


# --- the desk -------------------------------------------------------------------------


@appointment_routes.post("/v1/staff/appointments/{code}/status")
async def set_desk_status(request: web.Request) -> web.Response:
    """The desk checks a citizen in (presente), marks them served (completato) or absent
    (non_presentato); the same status again changes nothing. The citizen's history shows it."""
    to = domain.desk_status((await json_object(request)).get("status"))
    change = await services.set_desk_status(unit_of_work(request), now(request), request.match_info["code"], to)
    return web.json_response({**change.appointment.to_json(qr_url(request)), "changed": change.changed})


# --- reminders ------------------------------------------------------------------------


@appointment_routes.post("/v1/jobs/appointment-reminders")
async def run_appointment_reminders(request: web.Request) -> web.Response:
    """Remind tomorrow's appointments now (`now` in the body pretends another time)."""
    body = await json_object(request) if request.body_exists else {}
    at = now(request)
    if body.get("now") is not None:
        at = _date_time(body, "now", "an ISO date and time")
    count = await jobs.send_reminders(unit_of_work(request), at.astimezone(UTC))
    return web.json_response({"count": count})


# --- the desk's verification page -----------------------------------------------------


@appointment_routes.get("/appointments/verify/{code}")
async def verify_appointment(request: web.Request) -> web.Response:
    """The page the desk opens from the citizen's QR: service, day, time, desk, status."""
    comune = request.app[SETTINGS].comune_name
    code = codes.normalise_appointment_code(request.match_info["code"])
    token = request.query.get("t", "")
    try:
        if not codes.verify_appointment_token(file_secret(request), code, token):
            raise AppointmentNotFound()
        view = await services.verification(unit_of_work(request), code)
    except AppointmentNotFound:
        return aiohttp_jinja2.render_template(
            "appointments/not_found.html", request, {"comune": comune}, status=404
        )
    starts, ends = domain.as_local(view.starts_at), domain.as_local(view.ends_at)
    context = {
        "comune": comune,
        "view": view,
        "status": domain.STATUS_LABELS.get(view.status, view.status),
        "day": long_date(starts.date()),
        "hours": f"{starts:%H:%M}–{ends:%H:%M}",
        "desk": f"Sportello {view.desk}" if view.desk is not None else "—",
    }
    response = aiohttp_jinja2.render_template("appointments/verify.html", request, context)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def setup_appointments(app: web.Application) -> None:
    """Add the appointment routes and the hourly reminders (after the database's context)."""
    app.add_routes(appointment_routes)
    app.cleanup_ctx.append(jobs.reminder_job)
