"""Handoff tickets and their transcripts, kept by the bot so a restart loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

WAITING, ACTIVE, CLOSED = "waiting", "active", "closed"


class Base(DeclarativeBase):
    pass


class TicketRow(Base):
    __tablename__ = "handoff_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(index=True)
    topic: Mapped[str] = mapped_column(String(80))
    thread_id: Mapped[int | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # False while a waiting citizen went back to the assistant: their messages go to Rasa.
    relaying: Mapped[bool] = mapped_column(default=True)
    staff_name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_note: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None]
    # Told once that nobody has taken the request yet.
    told_unclaimed: Mapped[bool] = mapped_column(default=False)


class TranscriptRow(Base):
    __tablename__ = "handoff_transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True)
class Ticket:
    """A handoff as the callbacks see it."""

    id: int
    chat_id: int
    topic: str
    thread_id: int | None
    status: str
    relaying: bool
    staff_name: str | None
    rating: int | None


def _view(row: TicketRow) -> Ticket:
    return Ticket(row.id, row.chat_id, row.topic, row.thread_id, row.status, row.relaying, row.staff_name, row.rating)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class HandoffStore:
    """One repository for tickets and transcripts; commits in one place per call."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    async def open(cls, url: str) -> HandoffStore:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        return cls(engine)

    async def close(self) -> None:
        await self._engine.dispose()

    async def open_ticket_of(self, chat_id: int) -> Ticket | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(TicketRow).where(TicketRow.chat_id == chat_id, TicketRow.status != CLOSED)
            )
            return _view(row) if row else None

    async def by_thread(self, thread_id: int) -> Ticket | None:
        async with self._sessions() as session:
            row = await session.scalar(select(TicketRow).where(TicketRow.thread_id == thread_id))
            return _view(row) if row else None

    async def get(self, ticket_id: int) -> Ticket | None:
        async with self._sessions() as session:
            row = await session.get(TicketRow, ticket_id)
            return _view(row) if row else None

    async def create(self, chat_id: int, topic: str) -> Ticket:
        async with self._sessions() as session, session.begin():
            row = TicketRow(chat_id=chat_id, topic=topic, status=WAITING, relaying=True, created_at=_now())
            session.add(row)
        return _view(row)

    async def update(self, ticket_id: int, **changes: object) -> Ticket:
        async with self._sessions() as session, session.begin():
            row = await session.get(TicketRow, ticket_id)
            assert row is not None
            for name, value in changes.items():
                setattr(row, name, value)
        return _view(row)

    async def claim(self, ticket_id: int, staff_name: str) -> Ticket:
        return await self.update(ticket_id, status=ACTIVE, relaying=True, staff_name=staff_name, claimed_at=_now())

    async def close_ticket(self, ticket_id: int, note: str | None) -> Ticket:
        return await self.update(ticket_id, status=CLOSED, relaying=False, close_note=note, closed_at=_now())

    async def unclaimed_since(self, minutes: float) -> list[Ticket]:
        """Waiting tickets older than `minutes` whose citizen was not yet told nobody took them."""
        limit = _now() - timedelta(minutes=minutes)
        async with self._sessions() as session:
            rows = await session.scalars(
                select(TicketRow).where(
                    TicketRow.status == WAITING, TicketRow.created_at < limit, TicketRow.told_unclaimed.is_(False)
                )
            )
            return [_view(r) for r in rows]

    async def queue_position(self, ticket: Ticket) -> int:
        """1 for the first waiting citizen."""
        async with self._sessions() as session:
            ahead = await session.scalar(
                select(func.count()).select_from(TicketRow).where(TicketRow.status == WAITING, TicketRow.id < ticket.id)
            )
            return int(ahead or 0) + 1

    async def add_line(self, ticket_id: int, author: str, text: str) -> None:
        async with self._sessions() as session, session.begin():
            session.add(TranscriptRow(ticket_id=ticket_id, at=_now(), author=author, text=text[:4000]))

    async def transcript(self, ticket_id: int) -> list[tuple[str, str]]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(TranscriptRow).where(TranscriptRow.ticket_id == ticket_id).order_by(TranscriptRow.id)
            )
            return [(r.author, r.text) for r in rows]

    async def purge_transcripts(self, retention_days: int) -> int:
        """Forget what was said in tickets closed longer ago than the comune keeps it."""
        limit = _now() - timedelta(days=retention_days)
        async with self._sessions() as session, session.begin():
            closed = select(TicketRow.id).where(TicketRow.status == CLOSED, TicketRow.closed_at < limit)
            result = await session.execute(delete(TranscriptRow).where(TranscriptRow.ticket_id.in_(closed)))
            return int(getattr(result, "rowcount", 0) or 0)
