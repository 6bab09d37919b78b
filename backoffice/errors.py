"""Domain errors of the back office; the HTTP edge maps them to status codes."""

from __future__ import annotations


class BackOfficeError(Exception):
    """Base of every error the back office raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
