"""HTTP of the avvisi: topics and zones, a chat's subscriptions, publishing, stats, waste reminders."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web

from backoffice.announcements import services
from backoffice.appkeys import CLOCK, SESSIONMAKER, SETTINGS
from backoffice.db.uow import UnitOfWork
from backoffice.errors import InvalidRequest, NotFound
from backoffice.http.idempotency import idempotency_key
from backoffice.http.request import channel_user, json_object, now, staff_user, unit_of_work
from backoffice.jobs import run_periodically

log = logging.getLogger(__name__)

announcement_routes = web.RouteTableDef()

# As the payment reminders: a restarting process settles before its first run.
WASTE_FIRST_RUN_DELAY_SECONDS = 60.0


def _coordinate(request: web.Request, name: str, low: float, high: float) -> float:
    try:
        value = float(request.query.get(name, ""))
    except ValueError:
        raise InvalidRequest(f"{name} must be a number") from None
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}")
    return value


@announcement_routes.get("/v1/announcement-topics")
async def catalogue(request: web.Request) -> web.Response:
    """The topics one may ask for and the zones of the comune."""
    topics, zones = await services.catalogue(unit_of_work(request))
    return web.json_response(
        {"topics": [topic.to_json() for topic in topics], "zones": [zone.to_json() for zone in zones]}
    )


@announcement_routes.get("/v1/announcement-zones/locate")
async def locate(request: web.Request) -> web.Response:
    """The zone of a point: `?lat=&lon=`; 404 outside every zone."""
    lat = _coordinate(request, "lat", -90, 90)
    lon = _coordinate(request, "lon", -180, 180)
    zone = await services.locate(unit_of_work(request), lat, lon)
    if zone is None:
        raise NotFound("the point is in no zone")
    return web.json_response(zone.to_json())


@announcement_routes.get("/v1/me/announcements")
async def my_subscriptions(request: web.Request) -> web.Response:
    """What this chat account asked for: its zone and topics (no linking needed)."""
    found = await services.subscriptions(unit_of_work(request), channel_user(request))
    return web.json_response(found.to_json())


@announcement_routes.put("/v1/me/announcements")
async def update_subscriptions(request: web.Request) -> web.Response:
    """`{"topic": code, "subscribed": bool}` and/or `{"zone": code}`."""
    user = channel_user(request)
    body = await json_object(request)
    topic, subscribed, zone = body.get("topic"), body.get("subscribed"), body.get("zone")
    if topic is not None and (not isinstance(topic, str) or not isinstance(subscribed, bool)):
        raise InvalidRequest("topic (a code) goes with subscribed (true or false)")
    if zone is not None and not isinstance(zone, str):
        raise InvalidRequest("zone must be a zone code")
    if topic is None and zone is None:
        raise InvalidRequest("topic or zone is required")
    found = await services.update(unit_of_work(request), user, topic, subscribed, zone)
    return web.json_response(found.to_json())


@announcement_routes.delete("/v1/me/announcements")
async def stop_all(request: web.Request) -> web.Response:
    """ "Non voglio più avvisi": every topic stops."""
    await services.stop_all(unit_of_work(request), channel_user(request))
    return web.json_response({"zone": None, "topics": []})


@announcement_routes.post("/v1/announcements")
async def publish(request: web.Request) -> web.Response:
    """Publish a notice (staff, X-Staff-User): `{"topic", "zones", "text", "attachment",
    "scheduled_at"}`; once per Idempotency-Key."""
    staff = staff_user(request)
    if staff is None:
        raise InvalidRequest("the X-Staff-User header is required")
    key = idempotency_key(request, required=True)
    body = await json_object(request)
    status, answer = await services.publish(unit_of_work(request), body, staff, key, now(request))
    return web.json_response(answer, status=status)


@announcement_routes.get("/v1/announcements/{announcement_id}")
async def get_announcement(request: web.Request) -> web.Response:
    """The notice and how its delivery went: delivered, failed (blocked bot), seconds taken."""
    raw = request.match_info["announcement_id"]
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound("no such announcement")
    view = await services.get(unit_of_work(request), int(raw))
    return web.json_response(view.to_json())


@announcement_routes.post("/v1/jobs/waste-reminders")
async def run_waste_reminders(request: web.Request) -> web.Response:
    """Announce tomorrow's collection now if it is 19:00 or later in Rome (cron, tests)."""
    written = await services.waste_reminders(unit_of_work(request), now(request))
    return web.json_response({"announced": written})


async def _waste(app: web.Application) -> None:
    written = await services.waste_reminders(UnitOfWork(app[SESSIONMAKER]), app[CLOCK]())
    if written:
        log.info("announced the waste collection in %d zones", written)


async def waste_reminder_job(app: web.Application) -> AsyncIterator[None]:
    """Every WASTE_REMINDER_INTERVAL_SECONDS, under a lease; from 19:00 each zone once a day."""
    async with run_periodically(
        "waste reminders",
        partial(_waste, app),
        app[SETTINGS].waste_reminder_interval_seconds,
        first_delay=WASTE_FIRST_RUN_DELAY_SECONDS,
        leases=app[SESSIONMAKER],
    ):
        yield
