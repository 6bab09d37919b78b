"""Rows of the console's tables, and the read-only views it shows of the other areas' tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.db import models


@dataclass(frozen=True)
class QueueRow:
    protocol: str
    type_code: str
    type_name: str
    status: str
    created_at: datetime
    updated_at: datetime
    assigned_to: str | None


@dataclass(frozen=True)
class QueueFilter:
    practice_type: str = ""
    status: str = ""
    # "open": not yet decided; "" every status.
    older_than: datetime | None = None
    protocol: tuple[int, int] | None = None
    mine: int | None = None
    limit: int = 200


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- people ----------------------------------------------------------------------

    async def user_by_name(self, username: str) -> models.StaffUser | None:
        return await self._session.scalar(
            select(models.StaffUser).where(models.StaffUser.username == username)
        )

    async def user(self, user_id: int) -> models.StaffUser | None:
        return await self._session.get(models.StaffUser, user_id)

    async def users(self) -> list[models.StaffUser]:
        return list(await self._session.scalars(select(models.StaffUser).order_by(models.StaffUser.username)))

    async def add_user(self, user: models.StaffUser) -> None:
        self._session.add(user)
        await self._session.flush()

    # --- sessions --------------------------------------------------------------------

    async def add_session(self, row: models.StaffSession) -> None:
        self._session.add(row)
        await self._session.flush()

    async def session_with_user(
        self, token_hash: str
    ) -> tuple[models.StaffSession, models.StaffUser] | None:
        found = (
            await self._session.execute(
                select(models.StaffSession, models.StaffUser)
                .join(models.StaffUser, models.StaffUser.id == models.StaffSession.user_id)
                .where(models.StaffSession.token_hash == token_hash)
            )
        ).first()
        return None if found is None else (found[0], found[1])

    async def end_session(self, token_hash: str) -> None:
        await self._session.execute(
            delete(models.StaffSession).where(models.StaffSession.token_hash == token_hash)
        )

    async def end_sessions_of(self, user_id: int) -> None:
        await self._session.execute(delete(models.StaffSession).where(models.StaffSession.user_id == user_id))

    async def end_expired_sessions(self, now: datetime) -> None:
        await self._session.execute(delete(models.StaffSession).where(models.StaffSession.expires_at <= now))

    # --- audit -----------------------------------------------------------------------

    async def audit(
        self, user: models.StaffUser | None, username: str, action: str, target: str, detail: str, now: datetime
    ) -> None:
        self._session.add(
            models.StaffAudit(
                at=now,
                user_id=user.id if user is not None else None,
                username=username[:60],
                action=action,
                target=target[:120],
                detail=detail[:500],
            )
        )

    async def audit_log(self, limit: int, username: str = "") -> list[models.StaffAudit]:
        query = select(models.StaffAudit).order_by(models.StaffAudit.id.desc()).limit(limit)
        if username:
            query = query.where(models.StaffAudit.username == username)
        return list(await self._session.scalars(query))

    # --- pratiche --------------------------------------------------------------------

    async def queue(self, wanted: QueueFilter) -> list[QueueRow]:
        assignee = models.StaffUser
        query = (
            select(models.Practice, models.PracticeType, assignee.display_name)
            .join(models.PracticeType, models.PracticeType.id == models.Practice.type_id)
            .outerjoin(assignee, assignee.id == models.Practice.assigned_to_id)
            .where(models.Practice.protocol_number.is_not(None))
            .order_by(models.Practice.created_at, models.Practice.id)
            .limit(wanted.limit)
        )
        if wanted.practice_type:
            query = query.where(models.PracticeType.code == wanted.practice_type)
        if wanted.status == "open":
            query = query.where(
                models.Practice.status.in_(
                    [
                        models.PracticeStatus.PRESENTATA,
                        models.PracticeStatus.IN_ISTRUTTORIA,
                        models.PracticeStatus.INTEGRAZIONE_RICHIESTA,
                    ]
                )
            )
        elif wanted.status:
            query = query.where(models.Practice.status == wanted.status)
        if wanted.older_than is not None:
            query = query.where(models.Practice.created_at <= wanted.older_than)
        if wanted.protocol is not None:
            year, number = wanted.protocol
            query = query.where(models.Practice.protocol_year == year, models.Practice.protocol_number == number)
        if wanted.mine is not None:
            query = query.where(models.Practice.assigned_to_id == wanted.mine)
        rows = (await self._session.execute(query)).all()
        return [
            QueueRow(
                protocol=practice.protocol or "",
                type_code=ptype.code,
                type_name=ptype.name,
                status=practice.status,
                created_at=practice.created_at,
                updated_at=practice.updated_at,
                assigned_to=name,
            )
            for practice, ptype, name in rows
        ]

    async def practice_types(self) -> list[models.PracticeType]:
        return list(await self._session.scalars(select(models.PracticeType).order_by(models.PracticeType.name)))

    async def practice(self, year: int, number: int) -> models.Practice | None:
        return await self._session.scalar(
            select(models.Practice).where(
                models.Practice.protocol_year == year, models.Practice.protocol_number == number
            )
        )

    async def practice_type(self, type_id: int) -> models.PracticeType:
        found = await self._session.get(models.PracticeType, type_id)
        assert found is not None
        return found

    async def citizen(self, citizen_id: int | None) -> models.Citizen | None:
        return None if citizen_id is None else await self._session.get(models.Citizen, citizen_id)

    async def history_actors(self, practice_id: int) -> list[models.PracticeHistory]:
        return list(
            await self._session.scalars(
                select(models.PracticeHistory)
                .where(models.PracticeHistory.practice_id == practice_id)
                .order_by(models.PracticeHistory.at, models.PracticeHistory.id)
            )
        )

    async def notes(self, practice_id: int) -> list[models.PracticeNote]:
        return list(
            await self._session.scalars(
                select(models.PracticeNote)
                .where(models.PracticeNote.practice_id == practice_id)
                .order_by(models.PracticeNote.created_at, models.PracticeNote.id)
            )
        )

    async def add_note(self, note: models.PracticeNote) -> None:
        self._session.add(note)

    async def upload(self, practice_id: int, upload_id: str) -> models.Upload | None:
        return await self._session.scalar(
            select(models.Upload).where(models.Upload.practice_id == practice_id, models.Upload.id == upload_id)
        )

    # --- sportello -------------------------------------------------------------------

    async def appointments_between(
        self, start: datetime, end: datetime, service: str = ""
    ) -> list[tuple[models.Appointment, models.CounterService]]:
        query = (
            select(models.Appointment, models.CounterService)
            .join(models.CounterService, models.CounterService.id == models.Appointment.service_id)
            .where(models.Appointment.starts_at >= start, models.Appointment.starts_at < end)
            .where(models.Appointment.status != models.AppointmentStatus.ANNULLATO)
            .order_by(models.Appointment.starts_at, models.Appointment.desk)
        )
        if service:
            query = query.where(models.CounterService.code == service)
        return [(a, s) for a, s in (await self._session.execute(query)).all()]

    async def counter_services(self) -> list[models.CounterService]:
        return list(await self._session.scalars(select(models.CounterService).order_by(models.CounterService.name)))

    # --- tributi ----------------------------------------------------------------------

    async def citizen_by_fiscal_code(self, fiscal_code: str) -> models.Citizen | None:
        return await self._session.scalar(select(models.Citizen).where(models.Citizen.fiscal_code == fiscal_code))

    async def citizens_of_chats(self, chat_ids: list[int]) -> dict[int, str]:
        """The name of the citizen each Telegram chat is linked to (a private chat's id is its user's)."""
        if not chat_ids:
            return {}
        rows = await self._session.execute(
            select(models.ChannelLink.channel_user_id, models.Citizen.given_name, models.Citizen.family_name)
            .join(models.Citizen, models.Citizen.id == models.ChannelLink.citizen_id)
            .where(
                models.ChannelLink.channel == "telegram",
                models.ChannelLink.channel_user_id.in_([str(chat_id) for chat_id in chat_ids]),
            )
        )
        return {int(user_id): f"{given} {family}" for user_id, given, family in rows}

    async def tax_positions(self, citizen_id: int) -> list[models.TaxPosition]:
        return list(
            await self._session.scalars(
                select(models.TaxPosition)
                .where(models.TaxPosition.citizen_id == citizen_id)
                .order_by(models.TaxPosition.due_date, models.TaxPosition.id)
            )
        )

    async def notices_of(self, citizen_id: int) -> list[tuple[models.PaymentNotice, models.TaxPosition]]:
        rows = await self._session.execute(
            select(models.PaymentNotice, models.TaxPosition)
            .join(models.TaxPosition, models.TaxPosition.id == models.PaymentNotice.position_id)
            .where(models.TaxPosition.citizen_id == citizen_id)
            .order_by(models.PaymentNotice.created_at.desc())
        )
        return [(n, p) for n, p in rows.all()]

    async def receipts(
        self, limit: int, citizen_id: int | None = None
    ) -> list[tuple[models.PaymentReceipt, models.PaymentNotice, models.TaxPosition]]:
        query = (
            select(models.PaymentReceipt, models.PaymentNotice, models.TaxPosition)
            .join(models.PaymentNotice, models.PaymentNotice.id == models.PaymentReceipt.notice_id)
            .join(models.TaxPosition, models.TaxPosition.id == models.PaymentNotice.position_id)
            .order_by(models.PaymentReceipt.paid_at.desc())
            .limit(limit)
        )
        if citizen_id is not None:
            query = query.where(models.TaxPosition.citizen_id == citizen_id)
        return [(r, n, p) for r, n, p in (await self._session.execute(query)).all()]

    # --- avvisi ----------------------------------------------------------------------

    async def announcements(self, limit: int) -> list[tuple[models.Announcement, models.AnnouncementTopic]]:
        rows = await self._session.execute(
            select(models.Announcement, models.AnnouncementTopic)
            .join(models.AnnouncementTopic, models.AnnouncementTopic.id == models.Announcement.topic_id)
            .order_by(models.Announcement.id.desc())
            .limit(limit)
        )
        return [(a, t) for a, t in rows.all()]

    async def open_counts(self) -> dict[str, int]:
        rows = await self._session.execute(
            select(models.Practice.status, func.count())
            .where(models.Practice.protocol_number.is_not(None))
            .group_by(models.Practice.status)
        )
        return {status: count for status, count in rows.all()}

    async def colleagues(self) -> list[models.StaffUser]:
        """Who may be given a pratica: active people whose role handles pratiche."""
        return list(
            await self._session.scalars(
                select(models.StaffUser)
                .where(models.StaffUser.active.is_(True))
                .where(
                    or_(
                        models.StaffUser.role == models.StaffRole.OPERATORE,
                        models.StaffUser.role == models.StaffRole.RESPONSABILE,
                        models.StaffUser.role == models.StaffRole.ADMIN,
                    )
                )
                .order_by(models.StaffUser.display_name)
            )
        )
