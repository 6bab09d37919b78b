"""Handoff tickets and their transcripts, kept by the bot so a restart loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, ForeignKey, String, Text, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.health import HANDOFF_WAIT
from sportello.dblock import exclusive
from sportello.sqlite import tune

WAITING, ACTIVE, CLOSED = "waiting", "active", "closed"
# The author of a staff group's `//` note: the office reads it, the citizen's export leaves it out.
INTERNAL_NOTE = "nota interna"


class Base(DeclarativeBase):
    pass


class TicketRow(Base):
    __tablename__ = "handoff_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Telegram's ids take up to 52 bits.
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    topic: Mapped[str] = mapped_column(String(80))
    thread_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
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


@dataclass(frozen=True)
class TicketRecord:
    """A ticket with its dates and transcript, as the citizen's data export shows it."""

    id: int
    topic: str
    status: str
    staff_name: str | None
    created_at: datetime
    closed_at: datetime | None
    close_note: str | None
    rating: int | None
    transcript: tuple[tuple[datetime, str, str], ...]  # (at, author, text)


def _view(row: TicketRow) -> Ticket:
    return Ticket(
        row.id, row.chat_id, row.topic, row.thread_id, row.status, row.relaying, row.staff_name, row.rating
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class HandoffStore:
    """One repository for tickets and transcripts; commits in one place per call."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    async def open(cls, url: str) -> HandoffStore:
        engine = tune(create_async_engine(url))
        async with exclusive(engine, "sportello:handoff-schema"), engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
            if engine.dialect.name == "postgresql":
                narrow = (
                    (
                        await connection.execute(
                            text(
                                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                                "AND table_name = 'handoff_tickets' AND data_type = 'integer' AND column_name IN ('chat_id', 'thread_id')"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
                for column in narrow:
                    # Made when these were 32-bit: a citizen with a newer Telegram id fits now.
                    await connection.execute(
                        text(f"ALTER TABLE handoff_tickets ALTER COLUMN {column} TYPE BIGINT")
                    )
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
        """A new waiting ticket, relaying nothing until its staff topic exists (the caller turns it on)."""
        async with self._sessions() as session, session.begin():
            row = TicketRow(chat_id=chat_id, topic=topic, status=WAITING, relaying=False, created_at=_now())
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
        """A clerk takes the ticket; how long the citizen waited goes to the metrics."""
        now = _now()
        async with self._sessions() as session, session.begin():
            row = await session.get(TicketRow, ticket_id)
            assert row is not None
            row.status, row.relaying, row.staff_name, row.claimed_at = ACTIVE, True, staff_name, now
            HANDOFF_WAIT.observe(max(0.0, (now - row.created_at.replace(tzinfo=None)).total_seconds()))
        return _view(row)

    async def close_ticket(self, ticket_id: int, note: str | None) -> Ticket:
        return await self.update(ticket_id, status=CLOSED, relaying=False, close_note=note, closed_at=_now())

    async def unclaimed_since(self, minutes: float) -> list[Ticket]:
        """Waiting tickets older than `minutes` whose citizen was not yet told nobody took them."""
        limit = _now() - timedelta(minutes=minutes)
        async with self._sessions() as session:
            rows = await session.scalars(
                select(TicketRow).where(
                    TicketRow.status == WAITING,
                    TicketRow.created_at < limit,
                    TicketRow.told_unclaimed.is_(False),
                )
            )
            return [_view(r) for r in rows]

    async def queue_position(self, ticket: Ticket) -> int:
        """1 for the first waiting citizen."""
        async with self._sessions() as session:
            ahead = await session.scalar(
                select(func.count())
                .select_from(TicketRow)
                .where(TicketRow.status == WAITING, TicketRow.id < ticket.id)
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

    async def records_of(self, chat_id: int) -> list[TicketRecord]:
        """Every ticket of this chat with what was said to and by the citizen (not the staff's
        internal notes), oldest first."""
        async with self._sessions() as session:
            tickets = list(
                await session.scalars(
                    select(TicketRow).where(TicketRow.chat_id == chat_id).order_by(TicketRow.id)
                )
            )
            records = []
            for row in tickets:
                lines = await session.scalars(
                    select(TranscriptRow)
                    .where(TranscriptRow.ticket_id == row.id, TranscriptRow.author != INTERNAL_NOTE)
                    .order_by(TranscriptRow.id)
                )
                records.append(
                    TicketRecord(
                        row.id,
                        row.topic,
                        row.status,
                        row.staff_name,
                        row.created_at,
                        row.closed_at,
                        row.close_note,
                        row.rating,
                        tuple((line.at, line.author, line.text) for line in lines),
                    )
                )
            return records

    async def forget_chat(self, chat_id: int) -> list[Ticket]:
        """Delete this chat's tickets and their transcripts; the tickets as they were."""
        async with self._sessions() as session, session.begin():
            rows = list(await session.scalars(select(TicketRow).where(TicketRow.chat_id == chat_id)))
            ids = [row.id for row in rows]
            if ids:
                # SQLite enforces no ON DELETE CASCADE without a pragma: the lines go first.
                await session.execute(delete(TranscriptRow).where(TranscriptRow.ticket_id.in_(ids)))
                await session.execute(delete(TicketRow).where(TicketRow.id.in_(ids)))
            return [_view(row) for row in rows]
