"""Typed errors of the back-office client, so callers never inspect HTTP statuses."""

from __future__ import annotations

from backend_client.models.appointments import Appointment, AppointmentSlot


class BackOfficeError(Exception):
    """The back office answered with an error, or with something the client cannot read."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class BackOfficeUnavailable(BackOfficeError):
    """The back office cannot be reached, timed out or failed (5xx): try again later."""


class NotFound(BackOfficeError):
    """The requested thing does not exist."""


class Unauthorized(BackOfficeError):
    """The service credential was refused: a configuration problem, not a citizen's."""


class InvalidRequest(BackOfficeError):
    """The back office refused the request as malformed (400/422)."""


class Conflict(BackOfficeError):
    """The request clashes with the current state (409)."""


class NotLinked(BackOfficeError):
    """The chat account is not linked to a citizen, and this call needs one (403 not_linked)."""


class CitizenNotFound(NotFound):
    """No citizen has this codice fiscale."""


class LinkCodeInvalid(NotFound):
    """No such link code (404 invalid_link_code)."""


class LinkCodeExpired(BackOfficeError):
    """The link code expired or was already used (410 expired_link_code): ask for a new one."""


class TooManyAttempts(BackOfficeError):
    """Too many failed attempts from this chat account (429); `retry_after` is in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class UploadQuotaExceeded(TooManyAttempts):
    """The citizen sent as many files or megabytes as 24 hours allow (429); the limits
    are `max_files` and `max_mb`, `retry_after` when there is room again."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        max_files: int | None = None,
        max_mb: int | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, retry_after=retry_after)
        self.max_files = max_files
        self.max_mb = max_mb


class PracticeNotFound(NotFound):
    """No such pratica, or not visible to this caller: the two look the same on purpose."""


class InvalidData(InvalidRequest):
    """The pratica's data does not fit its form (422); `fields` maps a field to an Italian message."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.fields: dict[str, str] = dict(fields or {})


class FileTooLarge(InvalidRequest):
    """The file is over the back office's limit (20 MB)."""


class UnsupportedFileType(InvalidRequest):
    """The file is not a PDF, JPEG or PNG (judged by its bytes)."""


class InvalidTransition(Conflict):
    """A pratica or a booking cannot move to that status from the one it is in (409
    invalid_transition); the message says why, in Italian for a booking."""


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was already used for a different request."""


class AlreadyPaid(Conflict):
    """The tax position is already paid (409 already_paid): no notice, nothing to pay."""


class DownloadLinkExpired(NotFound):
    """A document's download URL is past its hour (410): get the pratica again for a new one."""


class AppointmentNotFound(NotFound):
    """No appointment has this code, or it is someone else's (404 appointment_not_found)."""


class SlotUnavailable(BackOfficeError):
    """The wanted slot cannot be booked; offer `alternatives`, the nearest free slots.

    `reason` is plain Italian for the citizen ("Natale", "Orario già passato", …).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        reason: str | None = None,
        alternatives: list[AppointmentSlot] | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.reason = reason
        self.alternatives: list[AppointmentSlot] = list(alternatives or [])


class SlotTaken(SlotUnavailable, Conflict):
    """Every desk of that slot is booked, perhaps a moment ago (409 slot_taken)."""


class SlotClosed(SlotUnavailable, InvalidRequest):
    """No slot then: a closed day, outside hours, past or too soon (422 slot_closed)."""


class AlreadyBooked(Conflict):
    """The citizen already has a booking for this service (409 already_booked): move it.

    `existing` is that booking.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        existing: Appointment | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.existing = existing
