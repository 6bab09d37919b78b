"""Typed errors of the back-office client, so callers never inspect HTTP statuses."""

from __future__ import annotations


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
