"""Channel users, link codes and masked codici fiscali: the chat side of a citizen's identity."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from backoffice.errors import BackOfficeError, Forbidden, InvalidRequest, NotFound, TooManyAttempts

CHANNEL_USER_HEADER = "X-Channel-User"
# No 0/O and 1/I: a code is read on one screen and typed on another.
LINK_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LINK_CODE_LENGTH = 8

_CHANNEL_USER = re.compile(r"^([a-z][a-z0-9_]{0,15}):([A-Za-z0-9_.\-]{1,63})$")


@dataclass(frozen=True, slots=True)


class ChannelUser:
    """A chat account: the channel ("telegram") and its user id there."""

    channel: str
    user_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.user_id}"

    @classmethod
    def parse(cls, value: str | None) -> ChannelUser:
        """Read the X-Channel-User header ("telegram:123"); InvalidRequest if absent or malformed."""
        if not value:
            raise InvalidRequest(f"the {CHANNEL_USER_HEADER} header is required")
        match = _CHANNEL_USER.fullmatch(value.strip())
        if match is None:
            raise InvalidRequest(
                f"{CHANNEL_USER_HEADER} must look like telegram:<user id>"
            )
        return cls(match.group(1), match.group(2))


def new_link_code() -> str:
    """A random link code, normalised (no dash): 8 characters of a 32-letter alphabet."""
    return "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))


def format_link_code(code: str) -> str:
    """The code as the citizen reads it: K7P2-QX9M."""
    return f"{code[:4]}-{code[4:]}"


def normalise_link_code(value: str) -> str:
    """Upper case, without dash or spaces, so K7P2-QX9M, k7p2qx9m and 'k7p2 qx9m' are the same."""
    return re.sub(r"[\s\-]", "", value).upper()


def mask_fiscal_code(fiscal_code: str) -> str:
    """Hide name and birthplace letters, so the full codice fiscale never goes back to the chat.

    RSSMRA50C12C552D -> RSS***50C12***D
    """
    code = fiscal_code.upper()
    if len(code) != 16:
        return "*" * len(code)
    return f"{code[:3]}***{code[6:11]}***{code[15]}"


# --- link codes and the attempts of a chat to guess one -------------------------------

LINK_CODE_VALIDITY = timedelta(minutes=15)
ATTEMPT_WINDOW = timedelta(minutes=15)
# Failed attempts a channel user may make in ATTEMPT_WINDOW, per kind of guess.
MAX_FAILED_ATTEMPTS = {"link": 5}


def check_attempts(kind: str, failures: list[datetime], now: datetime) -> None:
    """TooManyAttempts if `failures` (the times of the recent ones, oldest first) are too many.

    The chat is free again when enough of the counted failures leave the window.
    """
    limit = MAX_FAILED_ATTEMPTS[kind]
    if len(failures) >= limit:
        free_at = failures[len(failures) - limit] + ATTEMPT_WINDOW
        retry_after = max(1, int((free_at - now).total_seconds()) + 1)
        raise TooManyAttempts("too many failed attempts, try again later", retry_after)


# --- errors -------------------------------------------------------------------------


class NotLinked(Forbidden):
    """The channel user is not linked to a citizen, and this call needs one."""

    def __init__(
        self, message: str = "the channel user is not linked to a citizen"
    ) -> None:
        super().__init__(message)


class CitizenNotFound(NotFound):
    """No citizen has this codice fiscale."""


class LinkCodeInvalid(NotFound):
    """No link code like this exists."""


class LinkCodeExpired(BackOfficeError):
    """The link code exists but expired or was already used."""
