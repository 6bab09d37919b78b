"""HTTP handlers of the back-office API, one section per aggregate, as in openapi.yaml."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from backoffice.appkeys import ENGINE, SESSIONMAKER
from backoffice.db import ping
from backoffice.errors import InvalidRequest
from backoffice.repositories import (
    CounterServiceRepository,
    EventRepository,
    PracticeTypeRepository,
)

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

HEALTH_TIMEOUT_SECONDS = 3.0
EVENTS_DEFAULT_LIMIT = 100
EVENTS_MAX_LIMIT = 500


def _int_query(
    request: web.Request, name: str, default: int, low: int, high: int
) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}")
    return value


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
        return web.json_response(
            {"status": "unavailable", "database": "error"}, status=503
        )
    return web.json_response({"status": "ok", "database": "ok"})


# --- counter services -----------------------------------------------------------------


@routes.get("/v1/counter-services")
async def list_counter_services(request: web.Request) -> web.Response:
    """List every counter service with its opening hours."""
    async with request.app[SESSIONMAKER]() as session:
        services = await CounterServiceRepository(session).list()
    return web.json_response(
        {"counter_services": [service.to_json() for service in services]}
    )


@routes.get("/v1/counter-services/{code}")
async def get_counter_service(request: web.Request) -> web.Response:
    """Return one counter service by code."""
    async with request.app[SESSIONMAKER]() as session:
        service = await CounterServiceRepository(session).get(
            request.match_info["code"]
        )
    return web.json_response(service.to_json())


# --- practice types -------------------------------------------------------------------


@routes.get("/v1/practice-types")
async def list_practice_types(request: web.Request) -> web.Response:
    """List the pratica types citizens can submit, with their form fields."""
    async with request.app[SESSIONMAKER]() as session:
        practice_types = await PracticeTypeRepository(session).list()
    return web.json_response(
        {"practice_types": [item.to_json() for item in practice_types]}
    )


# --- event feed -----------------------------------------------------------------------


@routes.get("/v1/events")
async def list_events(request: web.Request) -> web.Response:
    """Return the events after a cursor, oldest first, and the cursor to use next."""
    after = _int_query(request, "after", 0, 0, 2**63 - 1)
    limit = _int_query(request, "limit", EVENTS_DEFAULT_LIMIT, 1, EVENTS_MAX_LIMIT)
    async with request.app[SESSIONMAKER]() as session:
        page = await EventRepository(session).after(after, limit)
    return web.json_response(page.to_json())
