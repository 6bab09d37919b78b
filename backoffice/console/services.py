"""The console's use cases: log in and out, people and roles, the audit log, and the office's
actions on pratiche, bookings and avvisi (each done by its own area, audited here)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backoffice.announcements import services as announcements
from backoffice.appointments import services as appointments
from backoffice.appointments.domain import day_start
from backoffice.console import domain
from backoffice.console.domain import AccountLocked, Clerk, Forbidden, LoginFailed, Permission
from backoffice.console.repository import QueueFilter, QueueRow, StaffRepository
from backoffice.db import models
from backoffice.db.models import AppointmentStatus, StaffRole
from backoffice.db.uow import UnitOfWork
from backoffice.errors import InvalidRequest, NotFound
from backoffice.practices import services as practices
from backoffice.practices.domain import PracticeNotFound
from backoffice.practices.repository import PracticeRepository

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


# --- pratiche --------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    row: QueueRow
    due: date
    overdue: bool


OPEN = {"presentata", "in_istruttoria", "integrazione_richiesta"}


def _due(row: QueueRow) -> date:
    return (row.created_at + timedelta(days=domain.deadline_days(row.type_code))).date()


@dataclass(frozen=True)
class Choice:
    """Something to pick in a form: its code and its name."""

    code: str
    name: str


async def queue(
    uow: UnitOfWork, wanted: QueueFilter, today: date, overdue_only: bool = False
) -> tuple[list[QueueEntry], list[Choice], dict[str, int]]:
    async with uow:
        staff = StaffRepository(uow.session)
        rows = await staff.queue(wanted)
        types = [Choice(t.code, t.name) for t in await staff.practice_types()]
        counts = await staff.open_counts()
    entries = [QueueEntry(row, _due(row), row.status in OPEN and _due(row) < today) for row in rows]
    if overdue_only:
        entries = [entry for entry in entries if entry.overdue]
    return entries, types, counts


@dataclass(frozen=True)
class Step:
    status: str
    note: str | None
    actor: str | None
    at: datetime


@dataclass(frozen=True)
class Note:
    text: str
    author_name: str
    created_at: datetime


@dataclass(frozen=True)
class PracticePage:
    protocol: str
    year: int
    number: int
    type_code: str
    type_name: str
    status: str
    created_at: datetime
    due: date
    overdue: bool
    citizen: str | None
    fields: list[tuple[str, str]]
    history: list[Step]
    notes: list[Note]
    attachments: list[dict[str, Any]]
    document: dict[str, Any] | None
    assigned_to_id: int | None
    colleagues: list[tuple[int, str]]
    channel: str


def _field_value(value: Any) -> str:
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


async def practice_page(uow: UnitOfWork, year: int, number: int, today: date) -> PracticePage:
    async with uow:
        staff = StaffRepository(uow.session)
        practice = await staff.practice(year, number)
        if practice is None or practice.protocol is None:
            raise PracticeNotFound()
        ptype = await staff.practice_type(practice.type_id)
        citizen = await staff.citizen(practice.citizen_id)
        labels = {f.get("name"): f.get("label", f.get("name")) for f in ptype.fields if isinstance(f, dict)}
        detail = await PracticeRepository(uow.session).detail(practice)
        due = (practice.created_at + timedelta(days=domain.deadline_days(ptype.code))).date()
        return PracticePage(
            protocol=practice.protocol,
            year=year,
            number=number,
            type_code=ptype.code,
            type_name=ptype.name,
            status=practice.status,
            created_at=practice.created_at,
            due=due,
            overdue=practice.status in OPEN and due < today,
            citizen=f"{citizen.given_name} {citizen.family_name}" if citizen else None,
            fields=[(str(labels.get(name, name)), _field_value(value)) for name, value in practice.data.items()],
            history=[Step(h.status, h.note, h.actor, h.at) for h in await staff.history_actors(practice.id)],
            notes=[Note(n.text, n.author_name, n.created_at) for n in await staff.notes(practice.id)],
            attachments=[
                {
                    "id": a.upload_id,
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "inline": a.content_type == "application/pdf" or a.content_type.startswith("image/"),
                }
                for a in detail.attachments
            ],
            document=(
                {"id": detail.document.document_id, "filename": detail.document.filename}
                if detail.document
                else None
            ),
            assigned_to_id=practice.assigned_to_id,
            colleagues=[(u.id, u.display_name) for u in await staff.colleagues()],
            channel="chat" if practice.submitted_by else "sportello o altro canale",
        )


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


async def attachment(uow: UnitOfWork, year: int, number: int, upload_id: str) -> Attachment:
    """A file the citizen attached to this pratica (only under its own pratica)."""
    async with uow:
        staff = StaffRepository(uow.session)
        practice = await staff.practice(year, number)
        found = None if practice is None else await staff.upload(practice.id, upload_id)
        if found is None:
            raise NotFound("no such attachment")
        return Attachment(found.filename, found.content_type, found.content)


async def assign(uow: UnitOfWork, clerk: Clerk, year: int, number: int, to_user: int | None, now: datetime) -> str:
    """Give the pratica to a colleague (or to oneself: take it in charge); their name."""
    async with uow:
        staff = StaffRepository(uow.session)
        practice = await staff.practice(year, number)
        if practice is None or practice.protocol is None:
            raise PracticeNotFound()
        target = clerk.id if to_user is None else to_user
        if target != clerk.id:
            require(clerk, Permission.ASSEGNA)
        user = await staff.user(target)
        if user is None or not user.active or not domain.can(user.role, Permission.PRATICHE):
            raise InvalidRequest("this colleague cannot take pratiche")
        practice.assigned_to_id = user.id
        await staff.audit(
            await staff.user(clerk.id), clerk.username, "pratica_assegnata", practice.protocol, user.username, now
        )
        await uow.commit()
        return user.display_name


async def take_in_charge(uow: UnitOfWork, clerk: Clerk, year: int, number: int, now: datetime) -> None:
    """Assign to oneself; a pratica just received goes into istruttoria (the citizen is told)."""
    await assign(uow, clerk, year, number, None, now)
    async with uow:
        practice = await StaffRepository(uow.session).practice(year, number)
        status = practice.status if practice else ""
    if status == "presentata":
        await decide(uow, clerk, year, number, "in_istruttoria", None, now)


async def decide(
    uow: UnitOfWork, clerk: Clerk, year: int, number: int, to: str, note: str | None, now: datetime
) -> None:
    """Move the pratica on (the practices area tells the citizen), then audit it."""
    change = await practices.transition(uow, year, number, to, note, clerk.display_name, now)
    await record(
        uow, clerk, "pratica_stato", change.detail.summary.protocol_number, f"{change.from_status} → {to}", now
    )


async def add_note(uow: UnitOfWork, clerk: Clerk, year: int, number: int, text: str, now: datetime) -> None:
    text = text.strip()
    if not text:
        raise InvalidRequest("the note is empty")
    async with uow:
        staff = StaffRepository(uow.session)
        practice = await staff.practice(year, number)
        if practice is None or practice.protocol is None:
            raise PracticeNotFound()
        await staff.add_note(
            models.PracticeNote(
                practice_id=practice.id,
                author_id=clerk.id,
                author_name=clerk.display_name,
                text=text[:4000],
                created_at=now,
            )
        )
        await staff.audit(await staff.user(clerk.id), clerk.username, "nota_aggiunta", practice.protocol, "", now)
        await uow.commit()


# --- sportello -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskRow:
    code: str
    service_code: str
    service_name: str
    starts_at: datetime
    desk: int | None
    status: str
    citizen: str


async def day_at_the_desk(
    uow: UnitOfWork, day: date, service: str = ""
) -> tuple[list[DeskRow], list[Choice]]:
    async with uow:
        staff = StaffRepository(uow.session)
        found = await staff.appointments_between(day_start(day), day_start(day + timedelta(days=1)), service)
        rows = []
        for appointment, counter in found:
            citizen = await staff.citizen(appointment.citizen_id)
            rows.append(
                DeskRow(
                    appointment.code,
                    counter.code,
                    counter.name,
                    appointment.starts_at,
                    appointment.desk,
                    appointment.status,
                    f"{citizen.given_name} {citizen.family_name}" if citizen else "",
                )
            )
        return rows, [Choice(c.code, c.name) for c in await staff.counter_services()]


async def desk_status(uow: UnitOfWork, clerk: Clerk, code: str, to: str, now: datetime) -> bool:
    """Check-in, completato, non presentato; False when it already was."""
    try:
        wanted = AppointmentStatus(to)
    except ValueError:
        raise InvalidRequest("unknown desk status") from None
    change = await appointments.set_desk_status(uow, now, code, wanted)
    if change.changed:
        await record(uow, clerk, "appuntamento_stato", change.appointment.code, f"{change.from_status} → {to}", now)
    return change.changed


# --- tributi --------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    description: str
    year: int
    instalment: int
    amount_cents: int
    due_date: date
    status: str
    notice_number: str | None


@dataclass(frozen=True)
class Paid:
    receipt_id: int
    receipt_number: str
    description: str
    notice_number: str
    amount_cents: int
    paid_at: datetime
    channel: str


@dataclass(frozen=True)
class TaxFile:
    """What the office sees of one citizen's taxes; None as citizen when nobody has that code."""

    citizen: str | None
    positions: list[Position]
    notices: list[tuple[str, str, int, date, datetime]]  # number, description, cents, due, issued
    payments: list[Paid]


def _paid(rows: list[tuple[models.PaymentReceipt, models.PaymentNotice, models.TaxPosition]]) -> list[Paid]:
    return [
        Paid(r.id, r.receipt_number, p.description, n.notice_number, r.amount_cents, r.paid_at, r.channel)
        for r, n, p in rows
    ]


async def recent_payments(uow: UnitOfWork, limit: int = 50) -> list[Paid]:
    async with uow:
        return _paid(await StaffRepository(uow.session).receipts(limit))


async def tax_file(uow: UnitOfWork, clerk: Clerk, fiscal_code: str, now: datetime) -> TaxFile:
    """One citizen's positions, notices and payments; the look-up goes in the audit log
    (by the citizen's number in the register, never the codice fiscale)."""
    async with uow:
        staff = StaffRepository(uow.session)
        citizen = await staff.citizen_by_fiscal_code(fiscal_code)
        if citizen is None:
            return TaxFile(None, [], [], [])
        found = TaxFile(
            f"{citizen.given_name} {citizen.family_name}",
            [
                Position(p.description, p.year, p.instalment, p.amount_cents, p.due_date, p.status, p.notice_number)
                for p in await staff.tax_positions(citizen.id)
            ],
            [
                (n.notice_number, p.description, n.amount_cents, n.due_date, n.created_at)
                for n, p in await staff.notices_of(citizen.id)
            ],
            _paid(await staff.receipts(200, citizen.id)),
        )
        await staff.audit(await staff.user(clerk.id), clerk.username, "tributi_consultati", f"cittadino {citizen.id}", "", now)
        await uow.commit()
        return found


# --- avvisi ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """A notice as the office reviews it: what, where, when, and how its delivery went."""

    id: int
    topic: str
    zones: list[str]
    text: str
    scheduled_at: datetime
    recipients: int
    counts: dict[str, int]
    # From the first send to the last, once nothing is pending; None while it is going out.
    took: timedelta | None = None

    @property
    def took_words(self) -> str:
        if self.took is None:
            return "in corso" if self.counts.get("pending", 0) else "—"
        seconds = round(self.took.total_seconds())
        return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min {seconds % 60} s"


async def recent_announcements(uow: UnitOfWork, limit: int = 30) -> list[Sent]:
    async with uow:
        ids = [row.id for row, _ in await StaffRepository(uow.session).announcements(limit)]
    out = []
    for announcement_id in ids:
        view = await announcements.get(uow, announcement_id)
        out.append(
            Sent(
                view.id,
                f"{view.topic.emoji} {view.topic.title}",
                list(view.zones),
                view.text,
                view.scheduled_at,
                view.recipients,
                view.counts,
                (
                    view.finished_at - view.started_at
                    if view.started_at and view.finished_at and not view.counts.get("pending", 0)
                    else None
                ),
            )
        )
    return out


async def publish(uow: UnitOfWork, clerk: Clerk, body: dict[str, Any], key: str, now: datetime) -> int:
    """Publish through the avvisi area (idempotent on the form's key); the notice's id."""
    status, answer = await announcements.publish(uow, body, clerk.username, key, now)
    await record(uow, clerk, "avviso_pubblicato", str(answer["id"]), str(body.get("topic", "")), now)
    return int(answer["id"])
