"""Where the cruscotto's facts are read: the back office's own tables (on the unit of work's
session), Rasa's tracker store and the bot's handoff tickets (each on its own read-only engine).

Rasa owns its `events` table and the bot its `handoff_tickets`: both are described here with
only the columns read, and neither is ever created or written. A store that cannot be read
(absent, unreachable, not created yet) gives None, and its figures are "not available".
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from backoffice.analytics.schemas import PracticeFacts, TicketFacts, TrackerEvent
from backoffice.appointments.domain import OfficeHours
from backoffice.appointments.repository import office_hours
from backoffice.db import models
from backoffice.db.models import PracticeStatus
from sportello.settings import Settings

logger = logging.getLogger(__name__)

# The URP/protocollo desk answers the chats handed to a person (bot/handoff.py): its hours
# are the office hours of the cruscotto.
OFFICE_SERVICE = "protocollo"

# Rasa 3.6's SQLTrackerStore.SQLEvent.
EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
# The event kinds the figures read; the others (bot, slot values, featurizations…) are not
# loaded, except requested_slot, whose rows are slot events.
EVENT_TYPES = ("user", "action", "active_loop", "slot", "session_started")

# The bot's handoff tickets and their transcripts (bot/handoff_store.py, TicketRow and
# TranscriptRow): naive UTC datetimes. The cruscotto and the console's Conversazioni read them.
_HANDOFF = MetaData()
TICKETS = Table(
    "handoff_tickets",
    _HANDOFF,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger),
    Column("topic", String(80)),
    Column("status", String(16)),
    Column("staff_name", String(120)),
    Column("created_at", DateTime),
    Column("claimed_at", DateTime),
    Column("closed_at", DateTime),
    Column("close_note", Text),
    Column("rating", Integer),
)
TRANSCRIPT = Table(
    "handoff_transcript",
    _HANDOFF,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer),
    Column("at", DateTime),
    Column("author", String(16)),
    Column("text", Text),
)


class AnalyticsRepository:
    """The back office's facts: pratiche filed and the URP desk's hours."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def practices_filed(self, start: datetime, end: datetime) -> list[PracticeFacts]:
        """Pratiche created in [start, end) that are not bozze; from the chat if a chat sent them."""
        rows = await self.session.execute(
            select(models.Practice.created_at, models.Practice.submitted_by).where(
                models.Practice.created_at >= start,
                models.Practice.created_at < end,
                models.Practice.status != PracticeStatus.BOZZA,
            )
        )
        return [PracticeFacts(created_at, submitted_by is not None) for created_at, submitted_by in rows]

    async def office_hours(self, code: str = OFFICE_SERVICE) -> OfficeHours | None:
        service = await self.session.scalar(
            select(models.CounterService).where(models.CounterService.code == code)
        )
        return office_hours(service) if service is not None else None


def read_only_engine(url: str) -> AsyncEngine:
    """An engine that cannot write: SQLite opened with mode=ro (a missing file is an error,
    never a new empty one), PostgreSQL with read-only transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:":
            raise ValueError("a read-only store needs a SQLite file")
        path = Path(database).resolve()
        return create_async_engine(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true", hide_parameters=True)
    return create_async_engine(
        parsed,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=0,
        connect_args={"server_settings": {"default_transaction_read_only": "on"}, "timeout": 5},
    )


def handoff_url(settings: Settings) -> str:
    """Where the bot keeps its tickets: HANDOFF_DATABASE_URL, or the bot's default file."""
    default = f"sqlite+aiosqlite:///{(Path(settings.bot_state_dir) / 'handoff.db').resolve()}"
    return settings.handoff_database_url or default


def utc(value: datetime) -> datetime:
    """A datetime the bot wrote (naive UTC) as an aware one."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _data(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class ExternalStores:
    """Rasa's tracker store and the bot's tickets, each on an engine opened on first use."""

    def __init__(self, tracker_url: str | None, handoff_url: str | None) -> None:
        self._urls = {"tracker": tracker_url, "handoff": handoff_url}
        self._engines: dict[str, AsyncEngine] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ExternalStores:
        return cls(settings.tracker_store_url, handoff_url(settings))

    def _engine(self, name: str) -> AsyncEngine | None:
        if name not in self._engines:
            url = self._urls[name]
            if not url:
                return None
            try:
                self._engines[name] = read_only_engine(url)
            except (ValueError, ImportError, SQLAlchemyError) as error:
                logger.warning("Analytics: the %s store cannot be opened: %s", name, type(error).__name__)
                return None
        return self._engines[name]

    def handoff_engine(self) -> AsyncEngine | None:
        """The bot's handoff database, read-only; None when it cannot be opened."""
        return self._engine("handoff")

    async def tracker_events(self, start: datetime, end: datetime) -> list[TrackerEvent] | None:
        """Rasa's events in [start, end), each sender's in the order written; None if unreadable."""
        engine = self._engine("tracker")
        if engine is None:
            return None
        query = (
            select(
                EVENTS.c.sender_id,
                EVENTS.c.type_name,
                EVENTS.c.timestamp,
                EVENTS.c.intent_name,
                EVENTS.c.action_name,
                EVENTS.c.data,
            )
            .where(
                EVENTS.c.timestamp >= start.timestamp(),
                EVENTS.c.timestamp < end.timestamp(),
                EVENTS.c.type_name.in_(EVENT_TYPES),
            )
            .order_by(EVENTS.c.sender_id, EVENTS.c.id)
        )
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(query)).all()
        except Exception as error:  # noqa: BLE001 - a store down must not fail the cruscotto
            logger.warning("Analytics: the tracker store cannot be read: %s", type(error).__name__)
            return None
        events = []
        for sender, type_name, timestamp, intent, action, raw in rows:
            data = _data(raw)
            if type_name == "slot" and data.get("name") != "requested_slot":
                continue
            at = datetime.fromtimestamp(timestamp or 0, UTC)
            events.append(TrackerEvent(sender, type_name, at, intent, action, data))
        return events

    async def handoff_tickets(self, start: datetime, end: datetime) -> list[TicketFacts] | None:
        """The tickets opened in [start, end); None if the bot's database cannot be read."""
        engine = self._engine("handoff")
        if engine is None:
            return None
        # The bot writes naive UTC datetimes.
        naive_start = start.astimezone(UTC).replace(tzinfo=None)
        naive_end = end.astimezone(UTC).replace(tzinfo=None)
        query = select(TICKETS.c.created_at, TICKETS.c.claimed_at, TICKETS.c.rating).where(
            TICKETS.c.created_at >= naive_start, TICKETS.c.created_at < naive_end
        )
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(query)).all()
        except Exception as error:  # noqa: BLE001 - a store down must not fail the cruscotto
            logger.warning("Analytics: the handoff tickets cannot be read: %s", type(error).__name__)
            return None
        return [
            TicketFacts(utc(created), utc(claimed) if claimed is not None else None, rating)
            for created, claimed, rating in rows
        ]

    async def close(self) -> None:
        engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            await engine.dispose()
