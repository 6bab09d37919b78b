"""The error table: the only place where domain errors become HTTP (status, code, JSON body)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable

from aiohttp import web

from backoffice.appointments.domain import AlreadyBooked, AppointmentNotFound, SlotClosed, SlotTaken
from backoffice.errors import (
    BackOfficeError,
    Conflict,
    Forbidden,
    InvalidRequest,
    InvalidTransition,
    LinkExpired,
    NotFound,
    TooManyAttempts,
)
from backoffice.http.idempotency import IdempotencyKeyReused
from backoffice.http.routenames import route_name
from backoffice.identity.domain import CitizenNotFound, LinkCodeExpired, LinkCodeInvalid, NotLinked
from backoffice.practices.domain import (
    FileTooLarge,
    InvalidData,
    PracticeNotFound,
    UnsupportedFileType,
    UploadQuotaExceeded,
)
from backoffice.taxes.domain import AlreadyPaid

log = logging.getLogger("backoffice.app")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

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
            route_name(request),
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        return error_response(500, "internal_error", "internal error")
