"""Pratiche's rows and their domain objects: types, uploads, pratiche with their history,
the documents issued. Nothing here commits or decides who may do what."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.db import models
from backoffice.db.models import PracticeStatus
from backoffice.errors import NotFound
from backoffice.identity.domain import ChannelUser
from backoffice.practices import schemas
from backoffice.practices.domain import UNATTACHED_UPLOAD_LIFETIME
from backoffice.schemas import StoredFile


class PracticeTypeRepository:
    """The catalogue of pratica types."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self) -> list[schemas.PracticeType]:
        rows = await self._session.scalars(select(models.PracticeType).order_by(models.PracticeType.code))
        return [practice_type(row) for row in rows]

    async def get(self, code: str) -> schemas.PracticeType:
        row = await self.row(code)
        if row is None:
            raise NotFound(f"practice type {code!r} does not exist")
        return practice_type(row)

    async def row(self, code: str) -> models.PracticeType | None:
        return await self._session.scalar(select(models.PracticeType).where(models.PracticeType.code == code))


def practice_type(row: models.PracticeType) -> schemas.PracticeType:
    return schemas.PracticeType(
        code=row.code,
        name=row.name,
        description=row.description,
        fields=tuple(
            schemas.PracticeField(
                name=f["name"],
                label=f["label"],
                kind=f["kind"],
                required=bool(f.get("required", False)),
                choices=tuple(f.get("choices") or ()),
                question=str(f.get("question") or ""),
            )
            for f in row.fields
        ),
    )


class UploadRepository:
    """Files linked chats send, until and after they are attached to a pratica."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        channel_user: ChannelUser,
        citizen_id: int,
        filename: str,
        content_type: str,
        content: bytes,
        now: datetime,
    ) -> schemas.Upload:
        row = models.Upload(
            id=uuid.uuid4().hex,
            channel_user=str(channel_user),
            citizen_id=citizen_id,
            filename=filename,
            content_type=content_type,
            size=len(content),
            content=content,
            created_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return upload(row)

    async def lock_citizen(self, citizen_id: int) -> None:
        """On PostgreSQL, hold the citizen's row: two uploads of one citizen at once must not
        both fit in the last place (SQLite has one writer anyway)."""
        if self._session.get_bind().dialect.name == "postgresql":
            await self._session.execute(
                select(models.Citizen.id).where(models.Citizen.id == citizen_id).with_for_update()
            )

    async def sent_since(self, citizen_id: int, since: datetime) -> list[tuple[datetime, int]]:
        """(created_at, size) of the citizen's uploads after `since`, oldest first."""
        rows = await self._session.execute(
            select(models.Upload.created_at, models.Upload.size)
            .where(models.Upload.citizen_id == citizen_id, models.Upload.created_at > since)
            .order_by(models.Upload.created_at)
        )
        return [(created_at, size) for created_at, size in rows]

    async def of_chat(self, channel_user: ChannelUser, ids: list[str]) -> dict[str, models.Upload]:
        """The chat's own uploads among `ids`, by id."""
        rows = await self._session.scalars(
            select(models.Upload).where(
                models.Upload.id.in_(ids), models.Upload.channel_user == str(channel_user)
            )
        )
        return {row.id: row for row in rows}

    async def attached(self, channel_user: ChannelUser, upload_id: str, practice_id: int) -> bool:
        """Whether the chat's upload is already attached to this pratica."""
        row = await self._session.scalar(
            select(models.Upload.id).where(
                models.Upload.id == upload_id,
                models.Upload.channel_user == str(channel_user),
                models.Upload.practice_id == practice_id,
            )
        )
        return row is not None


async def delete_unattached_uploads(session: AsyncSession, now: datetime) -> int:
    """Drop the files that are part of no pratica a day after they came; the caller commits."""
    deleted = await session.execute(
        delete(models.Upload).where(
            models.Upload.practice_id.is_(None),
            models.Upload.created_at <= now - UNATTACHED_UPLOAD_LIFETIME,
        )
    )
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]


def upload(row: models.Upload) -> schemas.Upload:
    return schemas.Upload(
        upload_id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
    )


class PracticeRepository:
    """Pratiche with their history and documents."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def citizen(self, citizen_id: int) -> models.Citizen:
        return await self._session.get_one(models.Citizen, citizen_id)

    async def household_names(self, household_id: str) -> tuple[str, ...]:
        """The names of the anagrafe's family, in the anagrafe's order."""
        members = await self._session.scalars(
            select(models.Citizen)
            .where(models.Citizen.household_id == household_id)
            .order_by(models.Citizen.id)
        )
        return tuple(f"{m.given_name} {m.family_name}" for m in members)

    async def next_protocol_number(self, year: int) -> int:
        """The next protocol number of the year, unique even under concurrent submissions.

        The counter row is created from the highest number already used (seeded pratiche
        have none), then incremented by one UPDATE: PostgreSQL's row lock and SQLite's
        single writer make the increments one at a time.
        """
        counter = models.ProtocolCounter
        insert = postgresql_insert if self._session.get_bind().dialect.name == "postgresql" else sqlite_insert
        await self._session.execute(
            insert(counter)
            .from_select(
                ["year", "last_number"],
                select(
                    literal(year),
                    func.coalesce(func.max(models.Practice.protocol_number), 0),
                ).where(models.Practice.protocol_year == year),
            )
            .on_conflict_do_nothing(index_elements=["year"])
        )
        number = await self._session.scalar(
            update(counter)
            .where(counter.year == year)
            .values(last_number=counter.last_number + 1)
            .returning(counter.last_number)
            .execution_options(synchronize_session=False)
        )
        assert number is not None
        return int(number)

    async def add(
        self,
        year: int,
        number: int,
        type_id: int,
        citizen_id: int | None,
        channel_user: ChannelUser,
        data: dict[str, Any],
        now: datetime,
    ) -> models.Practice:
        """A new pratica, presentata, with the first line of its history."""
        practice = models.Practice(
            protocol_year=year,
            protocol_number=number,
            type_id=type_id,
            citizen_id=citizen_id,
            submitted_by=str(channel_user),
            status=PracticeStatus.PRESENTATA.value,
            data=data,
            created_at=now,
            updated_at=now,
        )
        self._session.add(practice)
        await self._session.flush()
        self.add_history(practice, PracticeStatus.PRESENTATA.value, None, None, now)
        return practice

    def add_history(
        self, practice: models.Practice, status: str, note: str | None, actor: str | None, at: datetime
    ) -> None:
        self._session.add(
            models.PracticeHistory(practice_id=practice.id, status=status, note=note, actor=actor, at=at)
        )

    def add_document(
        self,
        practice: models.Practice,
        filename: str,
        content: bytes,
        verification_code: str,
        now: datetime,
    ) -> None:
        self._session.add(
            models.Document(
                practice_id=practice.id,
                filename=filename,
                content_type="application/pdf",
                content=content,
                verification_code=verification_code,
                created_at=now,
            )
        )

    async def flush(self) -> None:
        await self._session.flush()

    async def move(self, practice: models.Practice, from_status: str, to: str, now: datetime) -> bool:
        """Move the pratica if it is still in `from_status` (so two clerks acting at once
        cannot both move it); whether this call moved it."""
        moved = await self._session.execute(
            update(models.Practice)
            .where(models.Practice.id == practice.id, models.Practice.status == from_status)
            .values(status=to, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await self._session.refresh(practice)
        return True

    async def list_for(self, citizen_id: int) -> list[schemas.PracticeSummary]:
        """A citizen's protocolled pratiche, newest first."""
        rows = await self._session.scalars(
            select(models.Practice)
            .join(models.PracticeType)
            .where(
                models.Practice.citizen_id == citizen_id,
                models.Practice.protocol_number.is_not(None),
            )
            .order_by(models.Practice.created_at.desc(), models.Practice.id.desc())
        )
        return [await self.summary(row) for row in rows]

    async def staff_list(self, limit: int = 200) -> list[schemas.PracticeSummary]:
        rows = await self._session.scalars(
            select(models.Practice)
            .where(models.Practice.protocol_number.is_not(None))
            .order_by(models.Practice.updated_at.desc(), models.Practice.id.desc())
            .limit(limit)
        )
        return [await self.summary(row) for row in rows]

    async def by_protocol(self, year: int, number: int) -> models.Practice | None:
        return await self._session.scalar(
            select(models.Practice).where(
                models.Practice.protocol_year == year,
                models.Practice.protocol_number == number,
            )
        )

    async def summary(self, practice: models.Practice) -> schemas.PracticeSummary:
        ptype = await self._session.get_one(models.PracticeType, practice.type_id)
        assert practice.protocol is not None
        return schemas.PracticeSummary(
            protocol_number=practice.protocol,
            practice_type=ptype.code,
            practice_type_name=ptype.name,
            status=practice.status,
            created_at=practice.created_at,
            updated_at=practice.updated_at,
        )

    async def detail(self, practice: models.Practice) -> schemas.PracticeDetail:
        history = list(
            await self._session.scalars(
                select(models.PracticeHistory)
                .where(models.PracticeHistory.practice_id == practice.id)
                .order_by(models.PracticeHistory.at, models.PracticeHistory.id)
            )
        )
        document = await self._session.scalar(
            select(models.Document).where(models.Document.practice_id == practice.id)
        )
        attachments = await self._session.scalars(
            select(models.Upload)
            .where(models.Upload.practice_id == practice.id)
            .order_by(models.Upload.created_at, models.Upload.id)
        )
        requested = None
        if practice.status == PracticeStatus.INTEGRAZIONE_RICHIESTA:
            requested = next(
                (
                    entry.note
                    for entry in reversed(history)
                    if entry.status == PracticeStatus.INTEGRAZIONE_RICHIESTA
                ),
                None,
            )
        return schemas.PracticeDetail(
            summary=await self.summary(practice),
            history=tuple(
                schemas.HistoryEntry(status=entry.status, note=entry.note, at=entry.at) for entry in history
            ),
            requested_documents=requested,
            document=(
                schemas.PracticeDocument(
                    document_id=document.id,
                    filename=document.filename,
                    verification_code=document.verification_code,
                )
                if document is not None
                else None
            ),
            attachments=tuple(upload(row) for row in attachments),
        )


class DocumentRepository:
    """Documents the comune issued: served by capability URL, checked by verification code."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def file(self, document_id: int) -> StoredFile:
        row = await self._session.get(models.Document, document_id)
        if row is None:
            raise NotFound("no such file")
        return StoredFile(filename=row.filename, content_type=row.content_type, content=row.content)

    async def verify(self, code: str) -> schemas.DocumentVerification:
        row = await self._session.scalar(
            select(models.Document).where(models.Document.verification_code == code.strip().upper())
        )
        if row is None:
            raise NotFound("no document has this verification code")
        practice = await self._session.get_one(models.Practice, row.practice_id)
        ptype = await self._session.get_one(models.PracticeType, practice.type_id)
        assert practice.protocol is not None
        return schemas.DocumentVerification(
            practice_type_name=ptype.name,
            protocol_number=practice.protocol,
            issued_at=row.created_at,
        )
