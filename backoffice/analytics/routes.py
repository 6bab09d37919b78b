"""HTTP of the cruscotto, behind the service key: the staff's figures (JSON), the CSV export
and the open-data JSON the console publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from backoffice.analytics import period, services
from backoffice.analytics.repository import ExternalStores
from backoffice.analytics.schemas import Period
from backoffice.appkeys import SETTINGS
from backoffice.appointments.domain import ClosedDays
from backoffice.http.request import today, unit_of_work

analytics_routes = web.RouteTableDef()
STORES = web.AppKey("analytics_stores", ExternalStores)


def _period(request: web.Request) -> Period:
    return period.period(request.query.get("from"), request.query.get("to"), today(request))


def _closed_days(request: web.Request) -> ClosedDays:
    return ClosedDays(request.app[SETTINGS].comune_closing_days)


@analytics_routes.get("/v1/staff/analytics")
async def get_analytics(request: web.Request) -> web.Response:
    """Every figure of the period (?from=&to=, YYYY-MM-DD; the last 30 days by default)."""
    result = await services.figures(
        unit_of_work(request), request.app[STORES], _closed_days(request), _period(request)
    )
    return web.json_response(result.to_json(), headers={"Cache-Control": "private, no-store"})


@analytics_routes.get("/v1/staff/analytics/export.csv")
async def export_analytics(request: web.Request) -> web.Response:
    """The same figures as CSV for a spreadsheet: ';' between cells, decimal comma, UTF-8."""
    span = _period(request)
    text = await services.export_csv(unit_of_work(request), request.app[STORES], _closed_days(request), span)
    filename = f"cruscotto_{span.first.isoformat()}_{span.last.isoformat()}.csv"
    return web.Response(
        # The BOM makes Excel read the file as UTF-8 (accents in the headers).
        body=("\ufeff" + text).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@analytics_routes.get("/v1/opendata/analytics.json")
async def open_data_analytics(request: web.Request) -> web.Response:
    """Counts and rates only, for publishing: no message, no sender, no ticket."""
    body = await services.open_data(
        unit_of_work(request), request.app[STORES], _closed_days(request), _period(request)
    )
    return web.json_response(body)


async def _stores(app: web.Application) -> AsyncIterator[None]:
    app[STORES] = ExternalStores.from_settings(app[SETTINGS])
    yield
    await app[STORES].close()


def setup_analytics(app: web.Application) -> None:
    """Add the cruscotto's routes and its read-only stores, closed on cleanup."""
    app.add_routes(analytics_routes)
    app.cleanup_ctx.append(_stores)
