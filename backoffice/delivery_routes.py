"""The outbox over HTTP: bots claim due deliveries, then say sent or failed; the office sees the dead."""

from __future__ import annotations

from aiohttp import web

from backoffice.appkeys import CLOCK, SESSIONMAKER
from backoffice.deliveries import DeliveryRepository
from backoffice.errors import InvalidRequest, NotFound
from backoffice.routes import _int_query, json_object

delivery_routes = web.RouteTableDef()

CLAIM_MAX = 200
LEASE_MIN, LEASE_MAX, LEASE_DEFAULT = 5, 600, 60
CHANNELS = frozenset({"telegram"})


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


@delivery_routes.post("/v1/deliveries/claim")
async def claim(request: web.Request) -> web.Response:
    """Lease due deliveries of one channel: `{"channel", "limit", "lease_seconds"}`."""
    body = await json_object(request)
    channel = body.get("channel", "telegram")
    if channel not in CHANNELS:
        raise InvalidRequest("channel must be one of: " + ", ".join(sorted(CHANNELS)))
    limit = _number(body, "limit", 50, 1, CLAIM_MAX)
    lease = _number(body, "lease_seconds", LEASE_DEFAULT, LEASE_MIN, LEASE_MAX)
    async with request.app[SESSIONMAKER]() as session, session.begin():
        claimed = await DeliveryRepository(session).claim(str(channel), limit, lease, request.app[CLOCK]())
    return web.json_response({"deliveries": [item.to_json() for item in claimed]})


@delivery_routes.post("/v1/deliveries/{delivery_id}/sent")
async def sent(request: web.Request) -> web.Response:
    delivery_id = _delivery_id(request)
    async with request.app[SESSIONMAKER]() as session, session.begin():
        done = await DeliveryRepository(session).sent(delivery_id, request.app[CLOCK]())
    return web.json_response({"id": delivery_id, "status": "sent", "changed": done})


@delivery_routes.post("/v1/deliveries/{delivery_id}/failed")
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
    async with request.app[SESSIONMAKER]() as session, session.begin():
        status = await DeliveryRepository(session).failed(
            delivery_id, lease, request.app[CLOCK](), error, permanent,
            float(retry_after) if retry_after is not None else None,
        )
    if status is None:
        raise NotFound("no delivery held with this lease")
    return web.json_response({"id": delivery_id, "status": status})


@delivery_routes.get("/v1/deliveries")
async def overview(request: web.Request) -> web.Response:
    """How many are pending, sent and dead, and the latest dead ones (`?limit=`)."""
    limit = _int_query(request, "limit", 50, 1, 500)
    async with request.app[SESSIONMAKER]() as session:
        repository = DeliveryRepository(session)
        counts, dead = await repository.counts(), await repository.dead(limit)
    return web.json_response({"counts": counts, "dead": dead})
