"""The office's actions on pratiche, bookings, taxes and avvisi: each done by its own area,
then written in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from backoffice.announcements import services as announcements
from backoffice.appointments import services as appointments
from backoffice.appointments.domain import day_start
from backoffice.console import domain
from backoffice.console.accounts import record, require
from backoffice.console.domain import Clerk, Permission
from backoffice.console.repository import QueueFilter, QueueRow, StaffRepository
from backoffice.db import models
from backoffice.db.models import AppointmentStatus
from backoffice.db.uow import UnitOfWork
from backoffice.errors import InvalidRequest, NotFound
from backoffice.practices import services as practices
from backoffice.practices.domain import PracticeNotFound
from backoffice.practices.repository import PracticeRepository

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
