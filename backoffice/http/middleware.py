"""What every request crosses: the service key, the public listener's filter, the access log."""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Middleware
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from backoffice.http.errors import Handler, error_response
from backoffice.http.routenames import route_name
from sportello.metrics import SECONDS, Counter, Histogram

API_KEY_HEADER = "X-API-Key"
PROTECTED_PREFIX = "/v1/"
# What the public listener serves: the pages a citizen's browser or the desk's phone opens
# from a signed link. The API and the staff page answer only on the internal listener.
PUBLIC_PREFIXES = ("/checkout/", "/receipts/", "/files/", "/verify/", "/appointments/verify/")
PUBLIC_PATHS = ("/health",)


def api_key_middleware(expected_key: str) -> Middleware:
    """Require the service credential on every /v1 route."""
    expected = expected_key.encode()

    @web.middleware
    async def check_api_key(
        request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if request.path.startswith(PROTECTED_PREFIX):
            given = request.headers.get(API_KEY_HEADER, "").encode()
            # Constant-time comparison so the key cannot be guessed byte by byte.
            if not hmac.compare_digest(given, expected):
                return error_response(
                    401, "unauthorized", f"missing or wrong {API_KEY_HEADER}"
                )
        return await handler(request)

    return check_api_key


def public_listener_middleware(public_port: int) -> Middleware:
    """On the public listener, answer only the public pages; everything else is not there."""

    @web.middleware
    async def public_pages_only(request: web.Request, handler: Handler) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        arrived_on_public = isinstance(sockname, tuple) and len(sockname) >= 2 and sockname[1] == public_port
        if arrived_on_public and not (
            request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES)
        ):
            return error_response(404, "not_found", "not found")
        return await handler(request)

    return public_pages_only


REQUESTS = Counter(
    "sportello_backoffice_requests_total", "Back-office HTTP requests", ["method", "route", "status"]
)
LATENCY = Histogram(
    "sportello_backoffice_request_seconds", "Back-office request time", ["method", "route"], buckets=SECONDS
)


class AccessLogger(AbstractAccessLogger):
    """Access log with route templates instead of paths, so no personal data is logged."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        route = route_name(request)
        REQUESTS.labels(request.method, route, str(response.status)).inc()
        LATENCY.labels(request.method, route).observe(time)
        self.logger.info("%s %s %s %.1fms", request.method, route, response.status, time * 1000)
