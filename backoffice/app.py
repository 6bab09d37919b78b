"""Application factory of the back office: routes, middlewares and resources in one place."""

from __future__ import annotations

import hmac
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Middleware
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from backoffice.appkeys import ENGINE, SESSIONMAKER, SETTINGS
from backoffice.appointment_routes import setup_appointments
from backoffice.db import create_engine, create_sessionmaker
from backoffice.delivery_routes import delivery_routes
from backoffice.errors import (
    AlreadyBooked,
    AlreadyPaid,
    AppointmentNotFound,
    BackOfficeError,
    CitizenNotFound,
    Conflict,
    FileTooLarge,
    Forbidden,
    IdempotencyKeyReused,
    InvalidData,
    InvalidRequest,
    InvalidTransition,
    LinkCodeExpired,
    LinkCodeInvalid,
    LinkExpired,
    NotFound,
    NotLinked,
    PracticeNotFound,
    SlotClosed,
    SlotTaken,
    TooManyAttempts,
    UnsupportedFileType,
    UploadQuotaExceeded,
)
from backoffice.housekeeping import housekeeping_job, housekeeping_routes
from backoffice.payment_routes import payment_reminder_job, payment_routes
from backoffice.routes import routes
from backoffice.staff import STAFF_LOGINS, LoginThrottle, staff_routes
from sportello.settings import Settings, get_settings

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

API_KEY_HEADER = "X-API-Key"
PROTECTED_PREFIX = "/v1/"
# What the public listener serves: the pages a citizen's browser or the desk's phone opens
# from a signed link. The API and the staff page answer only on the internal listener.
PUBLIC_PREFIXES = ("/checkout/", "/receipts/", "/files/", "/verify/", "/appointments/verify/")
PUBLIC_PATHS = ("/health",)
# JSON bodies are small; uploads are streamed with their own limit (routes.MAX_UPLOAD_BYTES)
# and never read through this one.
CLIENT_MAX_SIZE = 1024 * 1024

# The only place where domain errors become HTTP: (status, machine-readable code).
_DOMAIN_ERRORS: dict[type[BackOfficeError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    InvalidRequest: (400, "invalid_request"),
    Conflict: (409, "conflict"),
    Forbidden: (403, "forbidden"),
    NotLinked: (403, "not_linked"),
    CitizenNotFound: (404, "citizen_not_found"),
    PracticeNotFound: (404, "practice_not_found"),
    LinkCodeInvalid: (404, "invalid_link_code"),
    LinkCodeExpired: (410, "expired_link_code"),
    LinkExpired: (410, "link_expired"),
    TooManyAttempts: (429, "too_many_attempts"),
    UploadQuotaExceeded: (429, "upload_quota_exceeded"),
    InvalidData: (422, "invalid_data"),
    FileTooLarge: (413, "file_too_large"),
    UnsupportedFileType: (415, "unsupported_file_type"),
    InvalidTransition: (409, "invalid_transition"),
    IdempotencyKeyReused: (409, "idempotency_key_reused"),
    AlreadyPaid: (409, "already_paid"),
    AppointmentNotFound: (404, "appointment_not_found"),
    SlotTaken: (409, "slot_taken"),
    SlotClosed: (422, "slot_closed"),
    AlreadyBooked: (409, "already_booked"),
}

_HTTP_ERROR_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_attempts",
}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    details: dict[str, object] | None = None,
) -> web.Response:
    """Build the JSON error body every error of the API has (`fields`: per-field messages).

    `details` are more members of the error, e.g. a taken slot's `alternatives`.
    """
    error: dict[str, object] = {"code": code, "message": message}
    if fields is not None:
        error["fields"] = fields
    error.update(details or {})
    return web.json_response({"error": error}, status=status, headers=headers)


def _domain_error_response(exc: BackOfficeError) -> web.Response:
    status, code = 400, "invalid_request"
    for error_type in type(exc).__mro__:
        if error_type in _DOMAIN_ERRORS:
            status, code = _DOMAIN_ERRORS[error_type]
            break
    fields = exc.fields if isinstance(exc, InvalidData) else None
    headers = (
        {"Retry-After": str(exc.retry_after)}
        if isinstance(exc, TooManyAttempts)
        else None
    )
    return error_response(status, code, exc.message, fields, headers, exc.details)


def _route_name(request: BaseRequest) -> str:
    """The matched route's template (e.g. /v1/counter-services/{code}), never the raw path.

    Raw paths and query strings may carry a codice fiscale or a name in later endpoints;
    templates never do, so they are what logs see.
    """
    match_info = getattr(request, "match_info", None)
    resource = match_info.route.resource if match_info is not None else None
    return resource.canonical if resource is not None else "<unmatched>"


@web.middleware
async def error_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Turn domain errors and HTTP exceptions into the JSON error body."""
    try:
        return await handler(request)
    except BackOfficeError as exc:
        return _domain_error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(
            exc.status, _HTTP_ERROR_CODES.get(exc.status, "error"), exc.reason
        )
    except Exception as exc:  # noqa: BLE001 - the last resort at the edge answers 500
        # Where it failed, but not the message: database errors quote the offending values
        # (a codice fiscale, a name) and logs must never hold them.
        log.error(
            "unhandled %s on %s %s\n%s",
            type(exc).__name__,
            request.method,
            _route_name(request),
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        return error_response(500, "internal_error", "internal error")


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


class AccessLogger(AbstractAccessLogger):
    """Access log with route templates instead of paths, so no personal data is logged."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms",
            request.method,
            _route_name(request),
            response.status,
            time * 1000,
        )


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
    app.cleanup_ctx.append(_database)
    app.add_routes(routes)
    app.add_routes(staff_routes)
    app[STAFF_LOGINS] = LoginThrottle()
    app.add_routes(payment_routes)
    app.add_routes(delivery_routes)
    app.add_routes(housekeeping_routes)
    # After _database: the jobs need the sessions, and are cancelled before they close.
    app.cleanup_ctx.append(payment_reminder_job)
    setup_appointments(app)
    app.cleanup_ctx.append(housekeeping_job)
    return app
