"""HTTP handlers not yet in an area: health and the counter services."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from backoffice.appkeys import CLOCK, ENGINE, SESSIONMAKER, SETTINGS
from backoffice.appointments import ClosedDays
from backoffice.counters import CounterServiceRepository
from backoffice.db import ping
from backoffice.schemas import JSONObject
from sportello.clock import ROME

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

HEALTH_TIMEOUT_SECONDS = 3.0
# How far ahead a counter service tells its closed days: enough for the chat to say when
# a desk reopens after Christmas or Easter.
CLOSURE_DAYS = 14


# --- health ---------------------------------------------------------------------------


@routes.get("/health")
async def get_health(request: web.Request) -> web.Response:
    """Report whether the service and its database answer."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
            await ping(request.app[ENGINE])
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        # The type is enough to diagnose and cannot leak personal data.
        log.warning("database health check failed: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable", "database": "error"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


# --- counter services -----------------------------------------------------------------


def _closures(request: web.Request) -> list[JSONObject]:
    """The holidays and the comune's closing days from today (Rome) for CLOSURE_DAYS days."""
    closed_days = ClosedDays(request.app[SETTINGS].comune_closing_days)
    today = request.app[CLOCK]().astimezone(ROME).date()
    return [closure.to_json() for closure in closed_days.ahead(today, CLOSURE_DAYS)]


@routes.get("/v1/counter-services")
async def list_counter_services(request: web.Request) -> web.Response:
    """List every counter service with its opening hours and closed days."""
    async with request.app[SESSIONMAKER]() as session:
        services = await CounterServiceRepository(session).list()
    # Every counter closes on the same days; each service carries them so that a service
    # looks the same listed or fetched alone.
    closures = _closures(request)
    return web.json_response(
        {"counter_services": [{**service.to_json(), "closures": closures} for service in services]}
    )


@routes.get("/v1/counter-services/{code}")
async def get_counter_service(request: web.Request) -> web.Response:
    """Return one counter service by code, with its closed days of the next two weeks."""
    async with request.app[SESSIONMAKER]() as session:
        service = await CounterServiceRepository(session).get(request.match_info["code"])
    return web.json_response({**service.to_json(), "closures": _closures(request)})
