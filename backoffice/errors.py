"""The kinds of domain error every area raises; the HTTP edge (http/errors.py) maps them,
and each area's own errors (which subclass these) to status codes."""

from __future__ import annotations

import importlib


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


class TooManyAttempts(BackOfficeError):
    """Too many failed attempts by this channel user; wait before trying again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidTransition(Conflict):
    """A pratica or a booking cannot move from its status to the requested one."""


class LinkExpired(BackOfficeError):
    """A capability URL whose time is over."""


# Errors of one area live in its domain (identity, practices, taxes, appointments) or in
# http/idempotency.py; importing them from here still works.
_MOVED = {
    "AlreadyBooked": "backoffice.appointments.domain",
    "AlreadyPaid": "backoffice.taxes.domain",
    "AppointmentNotFound": "backoffice.appointments.domain",
    "CitizenNotFound": "backoffice.identity.domain",
    "FileTooLarge": "backoffice.practices.domain",
    "IdempotencyKeyReused": "backoffice.http.idempotency",
    "InvalidData": "backoffice.practices.domain",
    "LinkCodeExpired": "backoffice.identity.domain",
    "LinkCodeInvalid": "backoffice.identity.domain",
    "NotLinked": "backoffice.identity.domain",
    "PracticeNotFound": "backoffice.practices.domain",
    "SlotClosed": "backoffice.appointments.domain",
    "SlotTaken": "backoffice.appointments.domain",
    "SlotUnavailable": "backoffice.appointments.domain",
    "UnsupportedFileType": "backoffice.practices.domain",
    "UploadQuotaExceeded": "backoffice.practices.domain",
}


def __getattr__(name: str) -> type[BackOfficeError]:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    error: type[BackOfficeError] = getattr(importlib.import_module(module), name)
    return error
