"""HTTP of the feed and the outbox: bots read the feed, claim deliveries, say sent or failed;
the office sees the dead ones; /metrics counts the outbox."""

from __future__ import annotations

from aiohttp import web

from backoffice.errors import InvalidRequest, NotFound
from backoffice.events import domain, services
from backoffice.http.request import int_query, json_object, now, unit_of_work
from sportello.metrics import CONTENT_TYPE, Gauge, exposition

event_routes = web.RouteTableDef()

DELIVERIES = Gauge("sportello_deliveries", "Notifications in the outbox, by status", ["status"])


def _delivery_id(request: web.Request) -> int:
    raw = request.match_info["delivery_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("delivery does not exist")
    return int(raw)


def _number(body: dict[str, object], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidRequest(f"{name} must be an integer between {low} and {high}")
    return value


@event_routes.get("/v1/events")
async def list_events(request: web.Request) -> web.Response:
    """Return the events after a cursor, oldest first, and the cursor to use next."""
    after = int_query(request, "after", 0, 0, 2**63 - 1)
    limit = int_query(request, "limit", domain.EVENTS_DEFAULT_LIMIT, 1, domain.EVENTS_MAX_LIMIT)
    page = await services.events_after(unit_of_work(request), after, limit)
    return web.json_response(page.to_json())


@event_routes.post("/v1/deliveries/claim")
async def claim(request: web.Request) -> web.Response:
    """Lease due deliveries of one channel: `{"channel", "limit", "lease_seconds"}`."""
    body = await json_object(request)
    channel = body.get("channel", "telegram")
    if channel not in domain.CHANNELS:
        raise InvalidRequest("channel must be one of: " + ", ".join(sorted(domain.CHANNELS)))
    limit = _number(body, "limit", 50, 1, domain.CLAIM_MAX)
    lease = _number(body, "lease_seconds", domain.LEASE_DEFAULT, domain.LEASE_MIN, domain.LEASE_MAX)
    claimed = await services.claim(unit_of_work(request), str(channel), limit, lease, now(request))
    return web.json_response({"deliveries": [item.to_json() for item in claimed]})


@event_routes.post("/v1/deliveries/{delivery_id}/sent")
async def sent(request: web.Request) -> web.Response:
    delivery_id = _delivery_id(request)
    done = await services.mark_sent(unit_of_work(request), delivery_id, now(request))
    return web.json_response({"id": delivery_id, "status": "sent", "changed": done})


@event_routes.post("/v1/deliveries/{delivery_id}/failed")
async def failed(request: web.Request) -> web.Response:
    """`{"lease", "error", "permanent", "retry_after"}` from the lease holder."""
    delivery_id = _delivery_id(request)
    body = await json_object(request)
    lease, error = body.get("lease"), body.get("error", "")
    permanent, retry_after = body.get("permanent", False), body.get("retry_after")
    if not isinstance(lease, str) or not lease or not isinstance(error, str) or not isinstance(permanent, bool):
        raise InvalidRequest("lease (text), error (text) and permanent (true/false) are expected")
    if retry_after is not None and (
        not isinstance(retry_after, int | float) or isinstance(retry_after, bool) or not 0 <= retry_after <= 3600
    ):
        raise InvalidRequest("retry_after must be a number of seconds between 0 and 3600")
    status = await services.mark_failed(
        unit_of_work(request), delivery_id, lease, now(request), error, permanent,
        float(retry_after) if retry_after is not None else None,
    )
    return web.json_response({"id": delivery_id, "status": status})


@event_routes.get("/v1/deliveries")
async def overview(request: web.Request) -> web.Response:
    """How many are pending, sent and dead, and the latest dead ones (`?limit=`)."""
    limit = int_query(request, "limit", 50, 1, 500)
    counts, dead = await services.overview(unit_of_work(request), limit)
    return web.json_response({"counts": counts, "dead": dead})


@event_routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus: requests and their time, and the outbox (pending, sent, dead) read now."""
    for status, count in (await services.counts(unit_of_work(request))).items():
        DELIVERIES.labels(status).set(count)
    return web.Response(body=exposition(), content_type=CONTENT_TYPE)
