"""`/health`: whether the service and its database answer."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from backoffice.appkeys import ENGINE
from backoffice.db import ping

log = logging.getLogger(__name__)

health_routes = web.RouteTableDef()

HEALTH_TIMEOUT_SECONDS = 3.0


@health_routes.get("/health")
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
