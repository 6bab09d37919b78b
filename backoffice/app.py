"""Application factory of the back office: routes, middlewares and resources in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from backoffice.analytics.routes import setup_analytics
from backoffice.announcements.routes import announcement_routes, waste_reminder_job
from backoffice.appkeys import CLOCK, ENGINE, SESSIONMAKER, SETTINGS
from backoffice.appointments.routes import setup_appointments
from backoffice.console.routes import setup_console
from backoffice.db import create_engine, create_sessionmaker
from backoffice.events.routes import event_routes
from backoffice.housekeeping import housekeeping_job, housekeeping_routes
from backoffice.http.errors import error_middleware, error_response
from backoffice.http.health import health_routes
from backoffice.http.middleware import (
    API_KEY_HEADER,
    PUBLIC_PATHS,
    PUBLIC_PREFIXES,
    AccessLogger,
    api_key_middleware,
    public_listener_middleware,
)
from backoffice.identity.routes import identity_routes
from backoffice.mydata import mydata_routes
from backoffice.practices.routes import practice_routes
from backoffice.taxes.routes import payment_reminder_job, tax_routes
from backoffice.templating import setup_templates
from sportello.clock import Clock
from sportello.settings import Settings, get_settings

__all__ = [
    "API_KEY_HEADER",
    "PUBLIC_PATHS",
    "PUBLIC_PREFIXES",
    "AccessLogger",
    "create_app",
    "error_response",
]

# JSON bodies are small; uploads are streamed with their own limit (routes.MAX_UPLOAD_BYTES)
# and never read through this one.
CLIENT_MAX_SIZE = 1024 * 1024


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS].database_url)
    app[ENGINE] = engine
    app[SESSIONMAKER] = create_sessionmaker(engine)
    yield
    await engine.dispose()


def create_app(settings: Settings | None = None) -> web.Application:
    """Build the back-office application; the database is opened on startup, closed on cleanup."""
    settings = settings or get_settings()
    middlewares = [error_middleware, api_key_middleware(settings.backoffice_api_key.get_secret_value())]
    if settings.backoffice_public_port:
        middlewares.insert(0, public_listener_middleware(settings.backoffice_public_port))
    app = web.Application(
        middlewares=middlewares,
        client_max_size=CLIENT_MAX_SIZE,
    )
    app[SETTINGS] = settings
    app[CLOCK] = Clock()
    app.cleanup_ctx.append(_database)
    setup_templates(app)
    app.add_routes(health_routes)
    app.add_routes(practice_routes)
    app.add_routes(identity_routes)
    setup_console(app)
    app.add_routes(tax_routes)
    app.add_routes(event_routes)
    app.add_routes(housekeeping_routes)
    app.add_routes(mydata_routes)
    app.add_routes(announcement_routes)
    # After _database: the jobs need the sessions, and are cancelled before they close.
    app.cleanup_ctx.append(payment_reminder_job)
    setup_appointments(app)
    setup_analytics(app)
    app.cleanup_ctx.append(housekeeping_job)
    app.cleanup_ctx.append(waste_reminder_job)
    return app
