"""Async client of the back-office API: one session, timeouts, bounded retries, typed results."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self, TypeVar
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
from backend_client.models import (
    Appointment,
    AppointmentSlot,
    AvailableDay,
    CounterService,
    DaySlots,
    Delivery,
    EventPage,
    Health,
    LinkCode,
    LinkedCitizen,
    PaymentNotice,
    PracticeDetail,
    PracticeSummary,
    PracticeType,
    TaxPosition,
    Upload,
)
from sportello.settings import Settings

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


class BackOfficeClient:
    """Typed client of the back-office API; share one per process."""

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
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._headers = {"X-API-Key": api_key, "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._retry_backoff = retry_backoff
        self._owns_session = owns_session

    async def aclose(self) -> None:
        """Close the HTTP session if this client opened it (see open_client)."""
        if self._owns_session and not self._session.closed:
            await self._session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- API --------------------------------------------------------------------------

    async def health(self) -> Health:
        """Check the back office and its database; raise BackOfficeUnavailable if either is down."""
        return Health.model_validate(await self._request("GET", "/health"))

    async def list_counter_services(self) -> list[CounterService]:
        """Every counter service with its opening hours."""
        body = await self._request("GET", "/v1/counter-services")
        return self._parse_list(body, "counter_services", CounterService)

    async def get_counter_service(self, code: str) -> CounterService:
        """One counter service; NotFound if the code is unknown."""
        body = await self._request("GET", f"/v1/counter-services/{_segment(code)}")
        return self._parse(body, CounterService)

    async def list_practice_types(self) -> list[PracticeType]:
        """The pratica types citizens can submit, with their fields."""
        body = await self._request("GET", "/v1/practice-types")
        return self._parse_list(body, "practice_types", PracticeType)

    async def events(self, after: int = 0, limit: int = 100) -> EventPage:
        """Events with id greater than `after`, oldest first, at most `limit`."""
        body = await self._request(
            "GET", "/v1/events", params={"after": after, "limit": limit}
        )
        return self._parse(body, EventPage)

    async def claim_deliveries(self, limit: int = 50, lease_seconds: int = 60) -> list[Delivery]:
        """Lease due notices for Telegram chats, at most one per chat, oldest first."""
        body = await self._request(
            "POST",
            "/v1/deliveries/claim",
            json={"channel": "telegram", "limit": limit, "lease_seconds": lease_seconds},
            retry_on_connection_errors=True,
        )
        return self._parse_list(body, "deliveries", Delivery)

    async def delivery_sent(self, delivery_id: int) -> None:
        """Telegram accepted the notice: it is never sent again."""
        await self._request("POST", f"/v1/deliveries/{delivery_id}/sent", retry_on_connection_errors=True)

    async def delivery_failed(
        self, delivery: Delivery, error: str, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        """The notice could not go: try later (backing off), or park it when `permanent`."""
        payload: dict[str, Any] = {"lease": delivery.lease, "error": error, "permanent": permanent}
        if retry_after is not None:
            payload["retry_after"] = retry_after
        await self._request(
            "POST", f"/v1/deliveries/{delivery.id}/failed", json=payload, retry_on_connection_errors=True
        )

    async def get_practice_type(self, code: str) -> PracticeType:
        """One pratica type with its fields and the question to ask for each; NotFound if unknown."""
        body = await self._request("GET", f"/v1/practice-types/{_segment(code)}")
        return self._parse(body, PracticeType)

    # --- identity ---------------------------------------------------------------------

    async def create_link_code(self, fiscal_code: str) -> LinkCode:
        """Mint a one-time link code for a citizen (the portal's part; demos and tests).

        CitizenNotFound if no citizen has this codice fiscale.
        """
        body = await self._request(
            "POST", "/v1/link-codes", json={"fiscal_code": fiscal_code}
        )
        return self._parse(body, LinkCode)

    async def link_channel(self, channel_user: str, code: str) -> LinkedCitizen:
        """Link a chat account ("telegram:123") with a link code, case and dash insensitive.

        LinkCodeInvalid, LinkCodeExpired (also when already used), TooManyAttempts.
        """
        body = await self._request(
            "POST",
            "/v1/channel-links",
            json={"code": code},
            channel_user=channel_user,
        )
        return self._parse(body, LinkedCitizen)

    async def me(self, channel_user: str) -> LinkedCitizen:
        """Who the chat account is linked to; NotLinked if nobody."""
        body = await self._request("GET", "/v1/me", channel_user=channel_user)
        return self._parse(body, LinkedCitizen)

    async def unlink_channel(self, channel_user: str) -> None:
        """Unlink the chat account; NotLinked if it was not linked."""
        await self._request("DELETE", "/v1/channel-links/me", channel_user=channel_user)

    # --- uploads and practices --------------------------------------------------------

    async def upload(
        self, channel_user: str, content: bytes, filename: str, content_type: str
    ) -> Upload:
        """Send a file (PDF, JPEG or PNG, at most 20 MB); attach it later by upload_id.

        NotLinked (only linked chats upload), UploadQuotaExceeded (the citizen's files of
        the last 24 hours), FileTooLarge, UnsupportedFileType (the back office judges the
        bytes, not the name).
        """
        if len(content) > MAX_UPLOAD_BYTES:
            raise FileTooLarge(
                f"files may be at most {MAX_UPLOAD_BYTES} bytes",
                status=413,
                code="file_too_large",
            )
        form = aiohttp.FormData()
        form.add_field("file", content, filename=filename, content_type=content_type)
        body = await self._request(
            "POST", "/v1/uploads", data=form, channel_user=channel_user
        )
        return self._parse(body, Upload)

    async def submit_practice(
        self,
        channel_user: str,
        practice_type: str,
        data: Mapping[str, Any],
        idempotency_key: str,
    ) -> PracticeDetail:
        """File a pratica; keep `idempotency_key` for the whole attempt (one per pratica).

        NotLinked (only segnalazione may be anonymous), InvalidData with `.fields`.
        """
        # Retried on connection errors and timeouts although POST is not idempotent: the
        # back office files one pratica per (chat account, Idempotency-Key) and answers a
        # repeat with the first answer, so a retry after a lost response cannot file twice.
        # A 5xx is not retried: the back office answered, and the caller decides.
        body = await self._request(
            "POST",
            "/v1/practices",
            json={"practice_type": practice_type, "data": dict(data)},
            channel_user=channel_user,
            idempotency_key=idempotency_key,
            retry_on_connection_errors=True,
        )
        return self._parse(body, PracticeDetail)

    async def list_practices(self, channel_user: str) -> list[PracticeSummary]:
        """The linked citizen's pratiche, newest first; NotLinked if not linked."""
        body = await self._request("GET", "/v1/practices", channel_user=channel_user)
        return self._parse_list(body, "practices", PracticeSummary)

    async def get_practice(
        self, channel_user: str, protocol_number: str
    ) -> PracticeDetail:
        """One pratica by protocol ("2026/000123"), for the chat linked to its owner.

        NotLinked for a chat linked to nobody (whatever the number; an anonymous
        segnalazione is still shown to the chat that sent it); PracticeNotFound when it
        does not exist or is someone else's.
        """
        body = await self._request(
            "GET", _practice_path(protocol_number), channel_user=channel_user
        )
        return self._parse(body, PracticeDetail)

    async def attach_document(
        self, channel_user: str, protocol_number: str, upload_id: str
    ) -> PracticeDetail:
        """Attach an upload to one's own pratica; one awaiting documents goes back to review."""
        body = await self._request(
            "POST",
            _practice_path(protocol_number) + "/attachments",
            json={"upload_id": upload_id},
            channel_user=channel_user,
        )
        return self._parse(body, PracticeDetail)

    async def transition_practice(
        self,
        protocol_number: str,
        to: str,
        note: str | None = None,
        staff_user: str | None = None,
    ) -> PracticeDetail:
        """The office moves a pratica to status `to`; InvalidTransition if not allowed.

        `integrazione_richiesta` needs a note saying what is missing (InvalidData otherwise).
        """
        number = _practice_path(protocol_number).removeprefix("/v1/practices/")
        body = await self._request(
            "POST",
            f"/v1/staff/practices/{number}/transitions",
            json={"to": to, "note": note},
            staff_user=staff_user,
        )
        return self._parse(body, PracticeDetail)

    # --- taxes and pagoPA ----------------------------------------------------------------

    async def list_taxes(self, channel_user: str) -> list[TaxPosition]:
        """The linked citizen's taxes and other dues, soonest due first; NotLinked."""
        body = await self._request("GET", "/v1/taxes", channel_user=channel_user)
        return self._parse_list(body, "taxes", TaxPosition)

    async def issue_notice(self, channel_user: str, position_id: int) -> PaymentNotice:
        """The pagoPA notice of one's own position, issued now or earlier (always the same).

        AlreadyPaid if the position is paid; NotFound if it is not the citizen's; NotLinked.
        """
        # Issuing is idempotent (one notice per position), so a lost answer may be retried.
        body = await self._request(
            "POST",
            f"/v1/taxes/{int(position_id)}/notice",
            channel_user=channel_user,
            retry_on_connection_errors=True,
        )
        return self._parse(body, PaymentNotice)

    async def get_notice(self, channel_user: str, notice_number: str) -> PaymentNotice:
        """One's own notice by its codice avviso (spaces allowed, as printed on paper).

        NotFound if no notice of the citizen has this number; AlreadyPaid; NotLinked.
        """
        body = await self._request(
            "GET",
            f"/v1/notices/{_segment(notice_number.strip())}",
            channel_user=channel_user,
        )
        return self._parse(body, PaymentNotice)

    async def set_preferences(
        self, channel_user: str, tax_reminders: bool
    ) -> LinkedCitizen:
        """Turn reminders of payments falling due on or off; the citizen as `me` answers."""
        body = await self._request(
            "PUT",
            "/v1/me/preferences",
            json={"tax_reminders": tax_reminders},
            channel_user=channel_user,
            retry_on_connection_errors=True,
        )
        return self._parse(body, LinkedCitizen)

    async def run_payment_reminders(self, today: date | None = None) -> int:
        """Queue the payment reminders due as of `today` (default: the comune's today).

        Returns how many were queued; each position is reminded once, however often this runs.
        """
        payload = {"today": today.isoformat()} if today is not None else {}
        return await self._run_job("/v1/jobs/payment-reminders", payload, "queued")

    # --- counter appointments ---------------------------------------------------------

    async def available_days(
        self, code: str, start: date | None = None, count: int = 5
    ) -> list[AvailableDay]:
        """The next `count` open days with a free slot at a counter, from `start` (today)."""
        params: dict[str, str | int] = {"count": count}
        if start is not None:
            params["from"] = start.isoformat()
        body = await self._request(
            "GET", f"/v1/counter-services/{_segment(code)}/days", params=params
        )
        return self._parse_list(body, "days", AvailableDay)

    async def day_slots(self, code: str, day: date) -> DaySlots:
        """One day of a counter: closed with the reason, or its free slots (none if full)."""
        body = await self._request(
            "GET",
            f"/v1/counter-services/{_segment(code)}/slots",
            params={"date": day.isoformat()},
        )
        return self._parse(body, DaySlots)

    async def nearest_slots(
        self, code: str, at: datetime | date, limit: int = 3
    ) -> list[AppointmentSlot]:
        """The free slots nearest to a wanted time or day: that day first, then the next ones.

        A datetime without an offset is Rome's wall clock; the slots come in time order.
        """
        body = await self._request(
            "GET",
            f"/v1/counter-services/{_segment(code)}/nearest",
            params={"at": at.isoformat(), "limit": limit},
        )
        return self._parse_list(body, "slots", AppointmentSlot)

    async def book_appointment(
        self,
        channel_user: str,
        service: str,
        starts_at: datetime,
        idempotency_key: str | None = None,
    ) -> Appointment:
        """Book the slot starting at `starts_at` (Rome's wall clock if without offset).

        SlotTaken or SlotClosed with `.alternatives` and `.reason`; AlreadyBooked with
        `.existing`; NotLinked; NotFound for an unknown service.
        """
        # Retried on connection errors with the same key: the back office books once per
        # key, so a lost answer cannot book twice.
        body = await self._request(
            "POST",
            "/v1/appointments",
            json={"service": service, "starts_at": starts_at.isoformat()},
            channel_user=channel_user,
            idempotency_key=idempotency_key or new_idempotency_key(),
            retry_on_connection_errors=True,
        )
        return self._parse(body, Appointment)

    async def list_appointments(self, channel_user: str) -> list[Appointment]:
        """The linked citizen's bookings that have not ended yet, soonest first; NotLinked."""
        body = await self._request("GET", "/v1/appointments", channel_user=channel_user)
        return self._parse_list(body, "appointments", Appointment)

    async def get_appointment(self, channel_user: str, code: str) -> Appointment:
        """One of the citizen's bookings by code, whatever its status; AppointmentNotFound."""
        body = await self._request(
            "GET", f"/v1/appointments/{_segment(code)}", channel_user=channel_user
        )
        return self._parse(body, Appointment)

    async def move_appointment(
        self, channel_user: str, code: str, starts_at: datetime
    ) -> Appointment:
        """Move one's booking to another slot; same code. If the new slot is gone the
        booking stays where it was (SlotTaken, SlotClosed); AppointmentNotFound.
        """
        # Moving to the same time twice is a no-op, so a lost answer may be retried.
        body = await self._request(
            "POST",
            f"/v1/appointments/{_segment(code)}/move",
            json={"starts_at": starts_at.isoformat()},
            channel_user=channel_user,
            retry_on_connection_errors=True,
        )
        return self._parse(body, Appointment)

    async def cancel_appointment(self, channel_user: str, code: str) -> Appointment:
        """Cancel one's booking (cancelling again is no error); the cancelled booking."""
        body = await self._request(
            "DELETE",
            f"/v1/appointments/{_segment(code)}",
            channel_user=channel_user,
            retry_on_connection_errors=True,
        )
        return self._parse(body, Appointment)

    async def run_appointment_reminders(self, now: datetime | None = None) -> int:
        """Remind tomorrow's appointments (as of `now`, default the back office's clock).

        Returns how many reminders were queued; each booking is reminded once.
        """
        payload = {"now": now.isoformat()} if now is not None else {}
        return await self._run_job("/v1/jobs/appointment-reminders", payload, "count")

    async def download(self, url: str) -> bytes:
        """Fetch a document by its capability URL (no API key is sent to it).

        NotFound if the URL is not valid, DownloadLinkExpired after its hour.
        """
        return await self._request("GET", url, absolute=True)  # type: ignore[no-any-return]

    # --- plumbing ---------------------------------------------------------------------

    async def _create(
        self, path: str, payload: Mapping[str, Any], idempotency_key: str | None = None
    ) -> Any:
        """POST something new; the back office dedupes it by the Idempotency-Key."""
        return await self._request(
            "POST",
            path,
            json=payload,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )

    async def _run_job(self, path: str, payload: Mapping[str, Any], key: str) -> int:
        """Run a job now; how many things it did, as the answer's `key` member says."""
        # Retried on connection errors: a job does each thing once, however often it runs.
        body = await self._request(
            "POST", path, json=payload, retry_on_connection_errors=True
        )
        if not isinstance(body, dict) or not isinstance(body.get(key), int):
            raise BackOfficeError(f"unexpected answer from back office: no {key!r} count")
        return int(body[key])

    async def _request(
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
            async with self._session.request(
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

    @staticmethod
    def _parse(body: Any, model: type[ModelT]) -> ModelT:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise BackOfficeError(
                f"unexpected {model.__name__} from back office"
            ) from exc

    @classmethod
    def _parse_list(cls, body: Any, key: str, model: type[ModelT]) -> list[ModelT]:
        if not isinstance(body, dict) or not isinstance(body.get(key), list):
            raise BackOfficeError(
                f"unexpected answer from back office: no {key!r} list"
            )
        return [cls._parse(item, model) for item in body[key]]


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


def _practice_path(protocol_number: str) -> str:
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


def _segment(value: str) -> str:
    """Quote a value for use as one path segment, so '/' or '?' cannot change the route."""
    return quote(value, safe="")


async def open_client(settings: Settings, timeout: float = 5.0) -> BackOfficeClient:
    """Open a client with its own session; the caller closes it with `await client.aclose()`."""
    session = aiohttp.ClientSession(raise_for_status=False)
    return BackOfficeClient(
        session,
        settings.backoffice_url,
        settings.backoffice_api_key.get_secret_value(),
        timeout,
        owns_session=True,
    )
