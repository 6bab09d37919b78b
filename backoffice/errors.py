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
