"""The console's people: log in and out, sessions, accounts and roles, the audit log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backoffice.console import domain
from backoffice.console.domain import AccountLocked, Clerk, Forbidden, LoginFailed, Permission
from backoffice.console.repository import StaffRepository
from backoffice.db import models
from backoffice.db.models import StaffRole
from backoffice.db.uow import UnitOfWork
from backoffice.errors import InvalidRequest, NotFound

_HASHER = PasswordHasher()
# Checked when the user name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clerk(user: models.StaffUser, csrf: str) -> Clerk:
    return Clerk(user.id, user.username, user.display_name, user.role, csrf)


# --- logging in ----------------------------------------------------------------------


async def login(uow: UnitOfWork, username: str, password: str, now: datetime) -> tuple[str, Clerk]:
    """A new session for the right password; LoginFailed or AccountLocked otherwise."""
    username = username.strip().lower()[:60]
    async with uow:
        staff = StaffRepository(uow.session)
        user = await staff.user_by_name(username)
        if user is None or not user.active:
            try:
                _HASHER.verify(_DUMMY_HASH, password)
            except VerificationError:
                pass
            await staff.audit(None, username or "?", "login_fallito", "", "utente sconosciuto o disattivato", now)
            await uow.commit()
            raise LoginFailed("wrong user name or password")
        if user.locked_until is not None and user.locked_until > now:
            await staff.audit(user, user.username, "login_bloccato", "", "account bloccato", now)
            await uow.commit()
            raise AccountLocked(user.locked_until)
        try:
            _HASHER.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            user.failed_logins += 1
            user.locked_until = domain.lock_after_failure(user.failed_logins, now)
            if user.locked_until is not None:
                user.failed_logins = 0
            await staff.audit(
                user,
                user.username,
                "login_fallito",
                "",
                "account bloccato" if user.locked_until else "password sbagliata",
                now,
            )
            await uow.commit()
            if user.locked_until is not None:
                raise AccountLocked(user.locked_until) from None
            raise LoginFailed("wrong user name or password") from None
        if _HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = _HASHER.hash(password)
        user.failed_logins, user.locked_until = 0, None
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        await staff.end_expired_sessions(now)
        await staff.add_session(
            models.StaffSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=domain.session_expiry(now, now),
            )
        )
        await staff.audit(user, user.username, "login", "", "", now)
        clerk = _clerk(user, csrf)
        await uow.commit()
    return token, clerk


async def clerk_for(uow: UnitOfWork, token: str, now: datetime) -> Clerk | None:
    """Who this session cookie belongs to, its idle time renewed; None if it is over."""
    if not token or len(token) > 200:
        return None
    async with uow:
        staff = StaffRepository(uow.session)
        found = await staff.session_with_user(_token_hash(token))
        if found is None:
            return None
        row, user = found
        if row.expires_at <= now or not user.active:
            await staff.end_session(row.token_hash)
            await uow.commit()
            return None
        # Renewed at most once a minute: most pages then write nothing.
        if now - row.last_seen_at > timedelta(minutes=1):
            row.last_seen_at, row.expires_at = now, domain.session_expiry(row.created_at, now)
            await uow.commit()
        return _clerk(user, row.csrf_token)


async def logout(uow: UnitOfWork, token: str, clerk: Clerk, now: datetime) -> None:
    async with uow:
        staff = StaffRepository(uow.session)
        await staff.end_session(_token_hash(token))
        await staff.audit(await staff.user(clerk.id), clerk.username, "logout", "", "", now)
        await uow.commit()


# --- people ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    locked: bool


async def add_user(
    uow: UnitOfWork,
    username: str,
    display_name: str,
    role: str,
    password: str,
    now: datetime,
    by: Clerk | None = None,
) -> Person:
    """A new account; `by` None when made from the command line."""
    username = username.strip().lower()
    if not username.replace(".", "").replace("_", "").replace("-", "").isalnum() or len(username) > 60:
        raise InvalidRequest("the user name takes letters, digits, . _ - (at most 60)")
    if role not in set(StaffRole):
        raise InvalidRequest("unknown role")
    if not display_name.strip():
        raise InvalidRequest("the display name is needed")
    domain.check_password_policy(password, username)
    async with uow:
        staff = StaffRepository(uow.session)
        if await staff.user_by_name(username) is not None:
            raise InvalidRequest("this user name is taken")
        user = models.StaffUser(
            username=username,
            display_name=display_name.strip()[:100],
            role=role,
            password_hash=_HASHER.hash(password),
            active=True,
            failed_logins=0,
            created_at=now,
        )
        await staff.add_user(user)
        actor = await staff.user(by.id) if by else None
        await staff.audit(actor, by.username if by else "riga di comando", "utente_creato", username, role, now)
        person = Person(user.id, user.username, user.display_name, user.role, True, False)
        await uow.commit()
    return person


async def people(uow: UnitOfWork, now: datetime) -> list[Person]:
    async with uow:
        return [
            Person(u.id, u.username, u.display_name, u.role, u.active, bool(u.locked_until and u.locked_until > now))
            for u in await StaffRepository(uow.session).users()
        ]


async def set_active(uow: UnitOfWork, clerk: Clerk, user_id: int, active: bool, now: datetime) -> None:
    """Disable an account (its sessions end at once) or enable it again, unlocking it."""
    if user_id == clerk.id and not active:
        raise InvalidRequest("one cannot disable oneself")
    async with uow:
        staff = StaffRepository(uow.session)
        user = await staff.user(user_id)
        if user is None:
            raise NotFound("no such staff user")
        user.active = active
        if active:
            user.failed_logins, user.locked_until = 0, None
        else:
            await staff.end_sessions_of(user.id)
        await staff.audit(
            await staff.user(clerk.id),
            clerk.username,
            "utente_attivato" if active else "utente_disattivato",
            user.username,
            "",
            now,
        )
        await uow.commit()


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    username: str
    action: str
    target: str
    detail: str


async def audit_log(uow: UnitOfWork, limit: int = 200, username: str = "") -> list[AuditLine]:
    async with uow:
        return [
            AuditLine(r.at, r.username, r.action, r.target, r.detail)
            for r in await StaffRepository(uow.session).audit_log(limit, username)
        ]


async def record(uow: UnitOfWork, clerk: Clerk, action: str, target: str, detail: str, now: datetime) -> None:
    """One line of the audit log for an action another area carried out."""
    async with uow:
        staff = StaffRepository(uow.session)
        await staff.audit(await staff.user(clerk.id), clerk.username, action, target, detail, now)
        await uow.commit()


def require(clerk: Clerk, permission: Permission) -> None:
    if not clerk.can(permission):
        raise Forbidden(f"the role {clerk.role} may not {permission}")


