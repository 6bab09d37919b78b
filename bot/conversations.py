"""The conversations Rasa keeps in its SQL tracker store, as the bot reads and deletes them.

Rasa owns the store (endpoints.yml, `tracker_store` of type SQL) and creates its `events`
table; the bot reaches the same database through TRACKER_STORE_URL to give a citizen their
conversation, to forget it when asked, and to delete what is older than the comune keeps.
It never creates the table: until Rasa has, there is nothing to read or delete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from sportello.clock import PROCESS_CLOCK

# Rasa 3.6's SQLTrackerStore.SQLEvent, the columns the bot uses.
EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("data", Text),
)
AUTHORS = {"user": "cittadino", "bot": "assistente"}


@dataclass(frozen=True)
class ConversationLine:
    """One message of a conversation: when, who (cittadino or assistente), what."""

    at: datetime
    author: str
    text: str


def _text_of(data: str | None) -> str:
    try:
        event = json.loads(data or "{}")
    except ValueError:
        return ""
    return str(event.get("text") or "") if isinstance(event, dict) else ""


class ConversationStore:
    """Rasa's `events` table: one sender's messages, forgetting them, and the retention."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> ConversationStore:
        return cls(create_async_engine(url))

    async def close(self) -> None:
        await self._engine.dispose()

    @staticmethod
    async def _has_events(connection: AsyncConnection) -> bool:
        return bool(await connection.run_sync(lambda sync: inspect(sync).has_table(EVENTS.name)))

    async def lines(self, sender_id: str) -> list[ConversationLine]:
        """What the citizen and the assistant said in this sender's conversation, oldest first."""
        async with self._engine.connect() as connection:
            if not await self._has_events(connection):
                return []
            rows = await connection.execute(
                select(EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
                .where(EVENTS.c.sender_id == sender_id, EVENTS.c.type_name.in_(AUTHORS))
                .order_by(EVENTS.c.id)
            )
            lines = []
            for type_name, timestamp, data in rows:
                text = _text_of(data)
                if text:
                    at = datetime.fromtimestamp(timestamp or 0, UTC)
                    lines.append(ConversationLine(at, AUTHORS[type_name], text))
            return lines

    async def forget(self, sender_id: str) -> int:
        """Delete every event of this sender; how many. Rasa starts a new conversation next."""
        async with self._engine.begin() as connection:
            if not await self._has_events(connection):
                return 0
            result = await connection.execute(delete(EVENTS).where(EVENTS.c.sender_id == sender_id))
            return int(result.rowcount or 0)

    async def forget_older_than(self, days: int, now: datetime | None = None) -> int:
        """Delete every event older than `days` days, whoever's; how many."""
        cutoff = (now or PROCESS_CLOCK.now()) - timedelta(days=days)
        async with self._engine.begin() as connection:
            if not await self._has_events(connection):
                return 0
            result = await connection.execute(delete(EVENTS).where(EVENTS.c.timestamp < cutoff.timestamp()))
            return int(result.rowcount or 0)
