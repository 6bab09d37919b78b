"""I miei dati: everything the assistant's back office holds about a chat's citizen, and erasing it.

The export is scoped like every /v1/me call: the citizen linked to the calling chat, and
what the chat itself sent (an anonymous segnalazione, its files). Erasing unlinks every chat
of the citizen and deletes what only the assistant needed (files that are part of no pratica,
the notices owed or sent to those chats, the answers kept for retries); pratiche, payments
and bookings stay with the offices, and the answer says so and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.appkeys import CLOCK, SESSIONMAKER
from backoffice.appointments.schemas import local_iso
from backoffice.db import models
from backoffice.db.models import FieldKind
from backoffice.http.request import channel_user
from backoffice.identity.domain import ChannelUser, mask_fiscal_code
from backoffice.practices.repository import PracticeRepository
from backoffice.schemas import JSONObject
from backoffice.taxes.domain import position_status
from sportello.clock import ROME

mydata_routes = web.RouteTableDef()

# Why each kind of thing outlives an erasure, in the words the citizen reads.
KEPT_REASONS = {
    "profile": "I tuoi dati anagrafici restano all'anagrafe del Comune: non li tiene l'assistente.",
    "practices": "Le pratiche restano all'ufficio: la legge chiede al Comune di conservarle.",
    "payments": "I pagamenti e le ricevute restano all'ufficio tributi: la legge chiede di conservarli.",
    "appointments": "Le prenotazioni restano allo sportello: quelle ancora da fare restano valide.",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class MyDataRepository:
    """What is kept about one chat's citizen, read or erased in one session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _citizen(self, user: ChannelUser) -> models.Citizen | None:
        return await self._session.scalar(
            select(models.Citizen)
            .join(models.ChannelLink)
            .where(
                models.ChannelLink.channel == user.channel,
                models.ChannelLink.channel_user_id == user.user_id,
            )
        )

    async def _links(self, citizen: models.Citizen | None) -> list[models.ChannelLink]:
        if citizen is None:
            return []
        rows = await self._session.scalars(
            select(models.ChannelLink)
            .where(models.ChannelLink.citizen_id == citizen.id)
            .order_by(models.ChannelLink.linked_at, models.ChannelLink.id)
        )
        return list(rows)

    def _practices_query(self, user: ChannelUser, citizen: models.Citizen | None) -> Any:
        # The citizen's pratiche, and an anonymous segnalazione this chat sent.
        mine = models.Practice.submitted_by == str(user)
        owner: Any = models.Practice.citizen_id.is_(None) & mine
        if citizen is not None:
            owner = or_(models.Practice.citizen_id == citizen.id, owner)
        return select(models.Practice).where(owner, models.Practice.protocol_number.is_not(None))

    def _uploads_filter(self, chats: list[str], citizen: models.Citizen | None) -> Any:
        sent_here = models.Upload.channel_user.in_(chats)
        return or_(models.Upload.citizen_id == citizen.id, sent_here) if citizen is not None else sent_here

    # --- export ------------------------------------------------------------------------

    async def export(self, user: ChannelUser, now: datetime) -> JSONObject:
        """Everything about the calling chat's citizen, and what the chat itself sent."""
        citizen = await self._citizen(user)
        links = await self._links(citizen)
        chats = sorted({str(user), *(f"{link.channel}:{link.channel_user_id}" for link in links)})
        return {
            "generated_at": now.isoformat(),
            "channel_user": str(user),
            "citizen": _profile(citizen) if citizen is not None else None,
            "links": [
                {
                    "channel_user": f"{link.channel}:{link.channel_user_id}",
                    "linked_at": link.linked_at.isoformat(),
                    "this_chat": link.channel == user.channel and link.channel_user_id == user.user_id,
                }
                for link in links
            ],
            "practices": await self._practices(user, citizen),
            "tax_positions": await self._taxes(citizen, now) if citizen is not None else [],
            "appointments": await self._appointments(citizen) if citizen is not None else [],
            "uploads": await self._uploads(chats, citizen),
            "notifications": await self._notifications(chats),
            "announcements": await self._announcements(chats),
        }

    async def _announcements(self, chats: list[str]) -> list[JSONObject]:
        """The avvisi each chat asked for: its zone and topics."""
        rows = await self._session.execute(
            select(models.AnnouncementSubscriber, models.AnnouncementZone.name)
            .outerjoin(
                models.AnnouncementZone, models.AnnouncementZone.id == models.AnnouncementSubscriber.zone_id
            )
            .where(models.AnnouncementSubscriber.channel_user.in_(chats))
            .order_by(models.AnnouncementSubscriber.channel_user)
        )
        found = []
        for subscriber, zone in rows.tuples():
            topics = await self._session.scalars(
                select(models.AnnouncementTopic.title)
                .join(
                    models.AnnouncementSubscription,
                    models.AnnouncementSubscription.topic_id == models.AnnouncementTopic.id,
                )
                .where(models.AnnouncementSubscription.channel_user == subscriber.channel_user)
                .order_by(models.AnnouncementTopic.position)
            )
            found.append({"channel_user": subscriber.channel_user, "zone": zone, "topics": list(topics)})
        return found

    async def _practices(self, user: ChannelUser, citizen: models.Citizen | None) -> list[JSONObject]:
        rows = await self._session.scalars(
            self._practices_query(user, citizen).order_by(models.Practice.created_at, models.Practice.id)
        )
        repository = PracticeRepository(self._session)
        practices = []
        for practice in rows:
            detail = await repository.detail(practice)
            body = detail.to_json()
            practice_type = await self._session.get_one(models.PracticeType, practice.type_id)
            body["answers"] = _masked_answers(practice, practice_type)
            body["document"] = (
                {"filename": detail.document.filename, "verification_code": detail.document.verification_code}
                if detail.document is not None
                else None
            )
            practices.append(body)
        return practices

    async def _taxes(self, citizen: models.Citizen, now: datetime) -> list[JSONObject]:
        today = now.astimezone(ROME).date()
        rows = await self._session.execute(
            select(models.TaxPosition, models.PaymentNotice, models.PaymentReceipt)
            .outerjoin(models.PaymentNotice, models.PaymentNotice.position_id == models.TaxPosition.id)
            .outerjoin(models.PaymentReceipt, models.PaymentReceipt.notice_id == models.PaymentNotice.id)
            .where(models.TaxPosition.citizen_id == citizen.id)
            .order_by(models.TaxPosition.due_date, models.TaxPosition.id)
        )
        return [
            {
                "id": position.id,
                "tax_type": position.tax_type,
                "description": position.description,
                "year": position.year,
                "instalment": position.instalment,
                "amount_cents": position.amount_cents,
                "due_date": position.due_date.isoformat(),
                "status": position_status(position.status, position.due_date, today).value,
                "notice": (
                    {
                        "notice_number": notice.notice_number,
                        "amount_cents": notice.amount_cents,
                        "due_date": notice.due_date.isoformat(),
                        "issued_at": notice.created_at.isoformat(),
                    }
                    if notice is not None
                    else None
                ),
                "receipt": (
                    {
                        "receipt_number": receipt.receipt_number,
                        "amount_cents": receipt.amount_cents,
                        "paid_at": receipt.paid_at.isoformat(),
                    }
                    if receipt is not None
                    else None
                ),
            }
            for position, notice, receipt in rows
        ]

    async def _appointments(self, citizen: models.Citizen) -> list[JSONObject]:
        rows = await self._session.execute(
            select(models.Appointment, models.CounterService)
            .join(models.CounterService)
            .where(models.Appointment.citizen_id == citizen.id)
            .order_by(models.Appointment.starts_at, models.Appointment.id)
        )
        return [
            {
                "code": appointment.code,
                "service_code": service.code,
                "service_name": service.name,
                "location": service.location,
                "starts_at": local_iso(appointment.starts_at),
                "status": appointment.status,
                "booked_at": appointment.created_at.isoformat(),
            }
            for appointment, service in rows
        ]

    async def _uploads(self, chats: list[str], citizen: models.Citizen | None) -> list[JSONObject]:
        rows = await self._session.execute(
            select(models.Upload, models.Practice)
            .outerjoin(models.Practice, models.Upload.practice_id == models.Practice.id)
            .where(self._uploads_filter(chats, citizen))
            .order_by(models.Upload.created_at, models.Upload.id)
        )
        return [
            {
                "upload_id": upload.id,
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": upload.size,
                "uploaded_at": upload.created_at.isoformat(),
                "protocol_number": practice.protocol if practice is not None else None,
            }
            for upload, practice in rows
        ]

    async def _notifications(self, chats: list[str]) -> list[JSONObject]:
        rows = await self._session.execute(
            select(models.Delivery, models.Event.type)
            .join(models.Event)
            .where(models.Delivery.recipient.in_(chats))
            .order_by(models.Delivery.created_at, models.Delivery.id)
        )
        return [
            {
                "type": event_type,
                "channel_user": delivery.recipient,
                "status": delivery.status,
                "created_at": delivery.created_at.isoformat(),
                "sent_at": _iso(delivery.done_at) if delivery.status == "sent" else None,
            }
            for delivery, event_type in rows
        ]

    # --- erasure -----------------------------------------------------------------------

    async def erase(self, user: ChannelUser) -> JSONObject:
        """Unlink every chat of the citizen, delete what only the assistant needed; the
        caller commits. Works for a chat linked to nobody too (its own files and notices)."""
        citizen = await self._citizen(user)
        links = await self._links(citizen)
        unlinked = [f"{link.channel}:{link.channel_user_id}" for link in links]
        chats = sorted({str(user), *unlinked})
        kept = await self._kept(user, citizen)
        uploads = await self._delete(
            delete(models.Upload).where(
                self._uploads_filter(chats, citizen), models.Upload.practice_id.is_(None)
            )
        )
        deliveries = await self._delete(delete(models.Delivery).where(models.Delivery.recipient.in_(chats)))
        await self._delete(
            delete(models.IdempotencyRecord).where(models.IdempotencyRecord.channel_user.in_(chats))
        )
        await self._delete(
            delete(models.AnnouncementSubscription).where(
                models.AnnouncementSubscription.channel_user.in_(chats)
            )
        )
        await self._delete(
            delete(models.AnnouncementSubscriber).where(models.AnnouncementSubscriber.channel_user.in_(chats))
        )
        for link in links:
            await self._session.delete(link)
        await self._session.flush()
        return {
            "unlinked": unlinked,
            "deleted": {"links": len(links), "uploads": uploads, "deliveries": deliveries},
            "kept": kept,
        }

    async def _delete(self, statement: Any) -> int:
        result = await self._session.execute(statement.execution_options(synchronize_session=False))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def _count(self, statement: Any) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(statement.subquery())) or 0)

    async def _kept(self, user: ChannelUser, citizen: models.Citizen | None) -> list[JSONObject]:
        counts = {"practices": await self._count(self._practices_query(user, citizen))}
        if citizen is not None:
            counts["profile"] = 1
            counts["payments"] = await self._count(
                select(models.PaymentReceipt.id)
                .join(models.PaymentNotice)
                .join(models.TaxPosition)
                .where(models.TaxPosition.citizen_id == citizen.id)
            )
            counts["appointments"] = await self._count(
                select(models.Appointment.id).where(models.Appointment.citizen_id == citizen.id)
            )
        return [
            {"kind": kind, "count": counts[kind], "reason": reason}
            for kind, reason in KEPT_REASONS.items()
            if counts.get(kind)
        ]


def _masked_answers(practice: models.Practice, practice_type: models.PracticeType) -> JSONObject:
    """The form's answers, every codice fiscale in them masked (a certificate's subject)."""
    kinds = {str(field.get("name")): field.get("kind") for field in practice_type.fields or []}
    return {
        name: mask_fiscal_code(value)
        if kinds.get(name) == FieldKind.FISCAL_CODE and isinstance(value, str)
        else value
        for name, value in (practice.data or {}).items()
    }


def _profile(citizen: models.Citizen) -> JSONObject:
    # The codice fiscale is masked, as everywhere the chat carries it.
    return {
        "given_name": citizen.given_name,
        "family_name": citizen.family_name,
        "fiscal_code_masked": mask_fiscal_code(citizen.fiscal_code),
        "email": citizen.email,
        "phone": citizen.phone,
        "address": citizen.address,
        "tax_reminders": citizen.tax_reminders,
    }


@mydata_routes.get("/v1/me/data")
async def get_my_data(request: web.Request) -> web.Response:
    """Everything kept about the calling chat's citizen (and the chat itself)."""
    user = channel_user(request)
    async with request.app[SESSIONMAKER]() as session:
        body = await MyDataRepository(session).export(user, request.app[CLOCK]())
    return web.json_response(body)


@mydata_routes.delete("/v1/me/data")
async def delete_my_data(request: web.Request) -> web.Response:
    """Erase what the assistant kept; say what stays with the offices and why."""
    user = channel_user(request)
    async with request.app[SESSIONMAKER].begin() as session:
        body = await MyDataRepository(session).erase(user)
    return web.json_response(body)
