"""The back-office client's one transport: session, headers, timeouts, bounded retries, typed errors."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ValidationError

from backend_client.errors import (
    AlreadyBooked,
    AlreadyPaid,
    AppointmentNotFound,
    BackOfficeError,
    BackOfficeUnavailable,
    CitizenNotFound,
    Conflict,
    DownloadLinkExpired,
    FileTooLarge,
    IdempotencyKeyReused,
    InvalidData,
    InvalidRequest,
    InvalidTransition,
    LinkCodeExpired,
    LinkCodeInvalid,
    NotFound,
    NotLinked,
    PracticeNotFound,
    SlotClosed,
    SlotTaken,
    SlotUnavailable,
    TooManyAttempts,
    Unauthorized,
    UnsupportedFileType,
    UploadQuotaExceeded,
)
from backend_client.models.appointments import Appointment, AppointmentSlot

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ERRORS_BY_STATUS: dict[int, type[BackOfficeError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    409: Conflict,
    410: NotFound,
    413: InvalidRequest,
    415: InvalidRequest,
    422: InvalidRequest,
    429: BackOfficeError,
}
# The error body's code is more precise than the status: it picks the error type first.
_ERRORS_BY_CODE: dict[str, type[BackOfficeError]] = {
    "not_linked": NotLinked,
    "citizen_not_found": CitizenNotFound,
    "invalid_link_code": LinkCodeInvalid,
    "expired_link_code": LinkCodeExpired,
    "too_many_attempts": TooManyAttempts,
    "practice_not_found": PracticeNotFound,
    "invalid_data": InvalidData,
    "file_too_large": FileTooLarge,
    "payload_too_large": FileTooLarge,
    "unsupported_file_type": UnsupportedFileType,
    "upload_quota_exceeded": UploadQuotaExceeded,
    "invalid_transition": InvalidTransition,
    "idempotency_key_reused": IdempotencyKeyReused,
    "link_expired": DownloadLinkExpired,
    "already_paid": AlreadyPaid,
    "appointment_not_found": AppointmentNotFound,
    "slot_taken": SlotTaken,
    "slot_closed": SlotClosed,
    "already_booked": AlreadyBooked,
}
CHANNEL_USER_HEADER = "X-Channel-User"
STAFF_USER_HEADER = "X-Staff-User"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_PROTOCOL = re.compile(r"^\s*(\d{4})\s*/\s*(\d{1,9})\s*$")


def new_idempotency_key() -> str:
    """A fresh key for one creating POST; reuse it when retrying that same POST."""
    return uuid.uuid4().hex


class Transport:
    """One session to the back office with its key; every area's client sends through it."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        timeout: float = 5.0,
        *,
        retries: int = 2,
        retry_backoff: float = 0.2,
        owns_session: bool = False,
    ) -> None:
        self.session = session
        self._base_url = base_url.rstrip("/")
        self._headers = {"X-API-Key": api_key, "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._retry_backoff = retry_backoff
        self._owns_session = owns_session

    async def close(self) -> None:
        """Close the HTTP session if this client opened it (see open_client)."""
        if self._owns_session and not self.session.closed:
            await self.session.close()

    async def create(
        self, path: str, payload: Mapping[str, Any], idempotency_key: str | None = None
    ) -> Any:
        """POST something new; the back office dedupes it by the Idempotency-Key."""
        return await self.request(
            "POST",
            path,
            json=payload,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )

    async def run_job(self, path: str, payload: Mapping[str, Any], key: str) -> int:
        """Run a job now; how many things it did, as the answer's `key` member says."""
        # Retried on connection errors: a job does each thing once, however often it runs.
        body = await self.request(
            "POST", path, json=payload, retry_on_connection_errors=True
        )
        if not isinstance(body, dict) or not isinstance(body.get(key), int):
            raise BackOfficeError(f"unexpected answer from back office: no {key!r} count")
        return int(body[key])

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
        data: aiohttp.FormData | None = None,
        idempotency_key: str | None = None,
        channel_user: str | None = None,
        staff_user: str | None = None,
        retry_on_connection_errors: bool = False,
        absolute: bool = False,
    ) -> Any:
        """Send one call and return its JSON (bytes when `absolute`: a capability URL).

        Idempotent methods are retried on connection errors, timeouts and 5xx; others only
        with `retry_on_connection_errors`, and then only on connection errors and timeouts.
        """
        if absolute:
            # A capability URL carries its own authority: never hand it the service key.
            headers: dict[str, str] = {}
        else:
            headers = dict(self._headers)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        if channel_user is not None:
            headers[CHANNEL_USER_HEADER] = channel_user
        if staff_user is not None:
            headers[STAFF_USER_HEADER] = staff_user
        idempotent = method in _IDEMPOTENT_METHODS
        retryable = idempotent or retry_on_connection_errors
        attempts = 1 + (self._retries if retryable else 0)
        url = path if absolute else self._base_url + path
        for attempt in range(1, attempts + 1):
            try:
                return await self._send(
                    method, url, params, json, data, headers, absolute
                )
            except BackOfficeUnavailable as exc:
                # A 5xx (status set) means the back office answered: only safe calls repeat.
                if attempt == attempts or (not idempotent and exc.status is not None):
                    raise
                # Path only: query strings and bodies may carry personal data.
                log.info(
                    "back office %s %s failed (%s), retrying",
                    method,
                    "<capability url>" if absolute else path,
                    exc.message,
                )
                await asyncio.sleep(self._retry_backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int] | None,
        json: Mapping[str, Any] | None,
        data: aiohttp.FormData | None,
        headers: Mapping[str, str],
        raw: bool = False,
    ) -> Any:
        try:
            async with self.session.request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                if raw and response.status < 400:
                    return await response.read()
                body = await _read_json(response)
                if response.status >= 500:
                    raise BackOfficeUnavailable(
                        _error_message(body, f"back office answered {response.status}"),
                        status=response.status,
                        code=_error_code(body),
                    )
                if response.status >= 400:
                    raise _error(response, body)
                return body
        except aiohttp.ClientError as exc:
            raise BackOfficeUnavailable(
                f"back office unreachable: {type(exc).__name__}"
            ) from exc
        except TimeoutError as exc:
            raise BackOfficeUnavailable("back office timed out") from exc


def parse(body: Any, model: type[ModelT]) -> ModelT:
    """The answer as `model`; BackOfficeError when it is not one."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BackOfficeError(f"unexpected {model.__name__} from back office") from exc


def parse_list(body: Any, key: str, model: type[ModelT]) -> list[ModelT]:
    """The answer's `key` list, each item as `model`."""
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise BackOfficeError(f"unexpected answer from back office: no {key!r} list")
    return [parse(item, model) for item in body[key]]




def _error(response: aiohttp.ClientResponse, body: Any) -> BackOfficeError:
    """The typed error for a 4xx answer: by the body's error code, else by status."""
    code = _error_code(body)
    error_type = _ERRORS_BY_CODE.get(code or "") or _ERRORS_BY_STATUS.get(
        response.status, BackOfficeError
    )
    message = _error_message(body, f"back office answered {response.status}")
    if issubclass(error_type, InvalidData):
        fields = body["error"].get("fields") if isinstance(body, dict) else None
        return error_type(
            message,
            status=response.status,
            code=code,
            fields=(
                {str(k): str(v) for k, v in fields.items()}
                if isinstance(fields, dict)
                else None
            ),
        )
    if issubclass(error_type, SlotUnavailable):
        details = body["error"] if isinstance(body, dict) else {}
        reason = details.get("reason")
        return error_type(
            message,
            status=response.status,
            code=code,
            reason=str(reason) if reason is not None else None,
            alternatives=_slots(details.get("alternatives")),
        )
    if issubclass(error_type, AlreadyBooked):
        existing = body["error"].get("appointment") if isinstance(body, dict) else None
        return error_type(
            message,
            status=response.status,
            code=code,
            existing=_appointment(existing),
        )
    if issubclass(error_type, UploadQuotaExceeded):
        retry_after = response.headers.get("Retry-After", "")
        details = body["error"] if isinstance(body, dict) else {}
        return error_type(
            message,
            status=response.status,
            code=code,
            retry_after=float(retry_after) if retry_after.isdigit() else None,
            max_files=_int_or_none(details.get("max_files")),
            max_mb=_int_or_none(details.get("max_mb")),
        )
    if issubclass(error_type, TooManyAttempts):
        retry_after = response.headers.get("Retry-After", "")
        return error_type(
            message,
            status=response.status,
            code=code,
            retry_after=float(retry_after) if retry_after.isdigit() else None,
        )
    return error_type(message, status=response.status, code=code)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _slots(value: Any) -> list[AppointmentSlot]:
    """The alternatives of an error body; an unreadable one is left out, not fatal."""
    slots = []
    for item in value if isinstance(value, list) else []:
        try:
            slots.append(AppointmentSlot.model_validate(item))
        except ValidationError:
            log.warning("unreadable alternative slot from back office")
    return slots


def _appointment(value: Any) -> Appointment | None:
    try:
        return Appointment.model_validate(value) if value is not None else None
    except ValidationError:
        return None


def practice_path(protocol_number: str) -> str:
    """/v1/practices/2026/000123 from "2026/000123"; PracticeNotFound if it is no protocol."""
    match = _PROTOCOL.fullmatch(protocol_number)
    if match is None:
        raise PracticeNotFound(
            "not a protocol number (YYYY/NNNNNN)", code="practice_not_found"
        )
    return f"/v1/practices/{match.group(1)}/{int(match.group(2)):06d}"


async def _read_json(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except ValueError:
        # A proxy's HTML error page, say; the status still tells what happened.
        return None


def _error_message(body: Any, default: str) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or default)
    return default


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return str(code) if code is not None else None
    return None


def segment(value: str) -> str:
    """Quote a value for use as one path segment, so '/' or '?' cannot change the route."""
    return quote(value, safe="")


