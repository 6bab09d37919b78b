"""Domain errors of the back office; the HTTP edge maps them to status codes."""

from __future__ import annotations


class BackOfficeError(Exception):
    """Base of every error the back office raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def details(self) -> dict[str, object] | None:
        """What the error body carries besides code and message, if anything."""
        return None


class NotFound(BackOfficeError):
    """The requested thing does not exist (or is not visible to the caller)."""


class InvalidRequest(BackOfficeError):
    """The request is malformed: a parameter is missing, of the wrong type or out of range."""


class Conflict(BackOfficeError):
    """The request clashes with the current state (duplicate, wrong status transition)."""


class Forbidden(BackOfficeError):
    """The caller may not do this."""


class NotLinked(Forbidden):
    """The channel user is not linked to a citizen, and this call needs one."""

    def __init__(
        self, message: str = "the channel user is not linked to a citizen"
    ) -> None:
        super().__init__(message)


class CitizenNotFound(NotFound):
    """No citizen has this codice fiscale."""


class PracticeNotFound(NotFound):
    """No pratica has this protocol, or the caller may not see it (the two look the same)."""

    def __init__(self, message: str = "no such pratica") -> None:
        super().__init__(message)


class LinkCodeInvalid(NotFound):
    """No link code like this exists."""


class LinkCodeExpired(BackOfficeError):
    """The link code exists but expired or was already used."""


class TooManyAttempts(BackOfficeError):
    """Too many failed attempts by this channel user; wait before trying again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UploadQuotaExceeded(TooManyAttempts):
    """The citizen sent as many files (or megabytes) as a day allows."""

    def __init__(self, retry_after: int, max_files: int, max_mb: int) -> None:
        super().__init__(
            f"at most {max_files} files and {max_mb} MB in 24 hours", retry_after
        )
        self.max_files = max_files
        self.max_mb = max_mb

    @property
    def details(self) -> dict[str, object]:
        return {"max_files": self.max_files, "max_mb": self.max_mb}


class InvalidData(BackOfficeError):
    """The data of a pratica does not fit its type's form: one Italian message per field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("the data does not fit the pratica type's fields")
        self.fields = fields


class FileTooLarge(BackOfficeError):
    """An upload is bigger than the limit."""


class UnsupportedFileType(BackOfficeError):
    """An upload is not a PDF, JPEG or PNG (judged by its bytes, not its name)."""


class InvalidTransition(Conflict):
    """The pratica cannot move from its status to the requested one."""


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was already used for a different request."""


class LinkExpired(BackOfficeError):
    """A capability URL whose time is over."""


class AlreadyPaid(Conflict):
    """The tax position is already paid: there is nothing to pay, no notice to issue."""

    def __init__(self, message: str = "this position is already paid") -> None:
        super().__init__(message)


class AppointmentNotFound(NotFound):
    """No appointment has this code, or it is someone else's (the two look the same)."""

    def __init__(self, message: str = "no such appointment") -> None:
        super().__init__(message)


class SlotUnavailable(BackOfficeError):
    """The wanted slot cannot be booked; `alternatives` are the nearest free slots (JSON)."""

    def __init__(
        self, message: str, reason: str | None, alternatives: list[dict[str, object]]
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.alternatives = alternatives

    @property
    def details(self) -> dict[str, object]:
        return {"reason": self.reason, "alternatives": self.alternatives}


class SlotTaken(SlotUnavailable, Conflict):
    """Every desk of the slot is booked (perhaps a moment ago, by someone else)."""


class SlotClosed(SlotUnavailable):
    """No slot at that time: the office is closed, it is outside hours, or it is past."""


class AlreadyBooked(Conflict):
    """The citizen already holds a live booking for this service: move it instead."""

    def __init__(self, existing: dict[str, object]) -> None:
        super().__init__("you already have an appointment for this service")
        self.existing = existing

    @property
    def details(self) -> dict[str, object]:
        return {"appointment": self.existing}
