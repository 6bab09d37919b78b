"""The console's rules: what each role may do, when an account locks, how long a session lives,
and each pratica type's legal deadline."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from backoffice.db.models import StaffRole
from backoffice.errors import BackOfficeError, Forbidden

__all__ = ["Forbidden"]


class Permission(enum.StrEnum):
    PRATICHE = "pratiche"  # see the queue and a pratica, act on it
    ASSEGNA = "assegna"  # give a pratica to a colleague
    SPORTELLO = "sportello"  # the day's appointments, check-in, completato, no-show
    AVVISI = "avvisi"  # publish avvisi to the citizens
    TRIBUTI = "tributi"  # a citizen's tax positions, notices, payments and receipts
    CONVERSAZIONI = "conversazioni"  # the chats handed to a person and their transcripts
    CRUSCOTTO = "cruscotto"  # how the assistant is doing: the figures and their export
    AUDIT = "audit"  # read who did what
    UTENTI = "utenti"  # add and disable staff accounts


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    StaffRole.OPERATORE: frozenset(
        {Permission.PRATICHE, Permission.SPORTELLO, Permission.TRIBUTI, Permission.CONVERSAZIONI}
    ),
    StaffRole.RESPONSABILE: frozenset(
        {
            Permission.PRATICHE,
            Permission.ASSEGNA,
            Permission.SPORTELLO,
            Permission.TRIBUTI,
            Permission.CONVERSAZIONI,
            Permission.AUDIT,
            Permission.CRUSCOTTO,
        }
    ),
    StaffRole.PUBBLICATORE: frozenset({Permission.AVVISI}),
    StaffRole.ADMIN: frozenset(Permission),
}

ROLE_LABELS: dict[str, str] = {
    StaffRole.OPERATORE: "Operatore",
    StaffRole.RESPONSABILE: "Responsabile",
    StaffRole.PUBBLICATORE: "Pubblicatore avvisi",
    StaffRole.ADMIN: "Amministratore",
}

# Five wrong passwords in a row lock the account for a quarter of an hour; a right one
# after the lock resets the count. While locked, no password is checked at all.
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
# A session ends after this much inactivity, and in any case after a working day.
IDLE_MINUTES = 60
MAX_SESSION_HOURS = 12
MIN_PASSWORD_LENGTH = 12

# Days the office has to answer, by pratica type (legge 241/1990: 30 days unless a rule
# says otherwise; a SCIA can be checked for 60, a CILA for 30). A comune changes them here.
LEGAL_DEADLINE_DAYS = {"scia": 60}
DEFAULT_DEADLINE_DAYS = 30


# Forbidden (from backoffice.errors): the role of the logged-in person does not allow this.


class LoginFailed(BackOfficeError):
    """Wrong user name or password (which of the two is never said)."""


class AccountLocked(BackOfficeError):
    """Too many wrong passwords in a row: wait until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__("account locked")
        self.until = until


class WeakPassword(BackOfficeError):
    """A new password too short or containing the user name."""


def can(role: str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def check_password_policy(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if username.lower() in password.lower():
        raise WeakPassword("the password must not contain the user name")


def lock_after_failure(failed_logins: int, now: datetime) -> datetime | None:
    """When the account locks after this many wrong passwords in a row; None if not yet."""
    if failed_logins >= MAX_FAILED_LOGINS:
        return now + timedelta(minutes=LOCK_MINUTES)
    return None


def session_expiry(created_at: datetime, now: datetime) -> datetime:
    return min(now + timedelta(minutes=IDLE_MINUTES), created_at + timedelta(hours=MAX_SESSION_HOURS))


def deadline_days(practice_type: str) -> int:
    return LEGAL_DEADLINE_DAYS.get(practice_type, DEFAULT_DEADLINE_DAYS)


@dataclass(frozen=True)
class Clerk:
    """The person logged in to the console."""

    id: int
    username: str
    display_name: str
    role: str
    csrf_token: str

    def can(self, permission: Permission) -> bool:
        return can(self.role, permission)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)
