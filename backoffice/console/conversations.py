"""What the office sees of the chats handed to a person: the bot's tickets, who took them, how
long the citizen waited, the rating, and the transcript while the comune keeps it.

The tickets live in the bot's database (bot/handoff_store.py); the console reads them on the
cruscotto's read-only engine and never writes there. A transcript is shown only within the
retention period (HANDOFF_RETENTION_DAYS after closing), even before the bot's nightly purge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from backoffice.analytics.repository import TICKETS, TRANSCRIPT, ExternalStores, utc
from backoffice.console.domain import Clerk
from backoffice.console.repository import StaffRepository
from backoffice.db.uow import UnitOfWork
from backoffice.errors import NotFound

logger = logging.getLogger(__name__)

# The bot's ticket states, in the office's words and in the page's address.
STATUS_LABELS = {"waiting": "In attesa", "active": "In corso", "closed": "Chiusa"}
STATUS_PARAMS = {"in_attesa": "waiting", "in_corso": "active", "chiuse": "closed"}
# The bot stores a `//` note among the lines of the transcript with this author.
INTERNAL_NOTE = "nota interna"
AUTHOR_LABELS = {"cittadino": "Cittadino", "operatore": "Operatore", "assistente": "Assistente", INTERNAL_NOTE: "🔒 Nota interna"}
SHOWN = 200


@dataclass(frozen=True)
class Conversation:
    """A ticket as the console lists it; datetimes aware, in UTC."""

    id: int
    topic: str
    status: str
    staff_name: str | None
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    close_note: str | None
    rating: int | None
    citizen: str | None  # the linked citizen's name, None for a chat not linked
    waited: timedelta | None  # to a person; still running while waiting; None if nobody took it

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def still_waiting(self) -> bool:
        return self.status == "waiting"


@dataclass(frozen=True)
class Line:
    at: datetime
    author: str
    text: str

    @property
    def internal(self) -> bool:
        return self.author == INTERNAL_NOTE

    @property
    def author_label(self) -> str:
        return AUTHOR_LABELS.get(self.author, self.author)


@dataclass(frozen=True)
class ConversationPage:
    conversation: Conversation
    lines: list[Line] | None  # None: past the retention period, no longer kept
    kept_until: datetime | None  # when the transcript will be forgotten, for a closed ticket


@dataclass(frozen=True)
class Overview:
    conversations: list[Conversation]
    counts: dict[str, int]  # per status, over every ticket


class StoreUnavailable(Exception):
    """The bot's database cannot be read now."""


def waited(created: datetime, claimed: datetime | None, status: str, now: datetime) -> timedelta | None:
    """How long the citizen waited for a person: until taken, or until now if still waiting."""
    if claimed is not None:
        return claimed - created
    return now - created if status == "waiting" else None


def _conversation(row: Any, names: dict[int, str], now: datetime) -> Conversation:
    created = utc(row.created_at)
    claimed = utc(row.claimed_at) if row.claimed_at is not None else None
    closed = utc(row.closed_at) if row.closed_at is not None else None
    status = row.status
    return Conversation(
        row.id,
        row.topic,
        status,
        row.staff_name,
        created,
        claimed,
        closed,
        row.close_note,
        row.rating,
        names.get(row.chat_id),
        waited(created, claimed, status, now),
    )


async def _names(uow: UnitOfWork, chat_ids: list[int]) -> dict[int, str]:
    async with uow:
        return await StaffRepository(uow.session).citizens_of_chats(chat_ids)


async def overview(stores: ExternalStores, uow: UnitOfWork, status: str | None, now: datetime) -> Overview:
    """The latest tickets (waiting ones first, the longest wait on top), with counts per status."""
    engine = stores.handoff_engine()
    if engine is None:
        raise StoreUnavailable
    query = select(TICKETS)
    if status is not None:
        query = query.where(TICKETS.c.status == status)
    waiting_first = (TICKETS.c.status != "waiting").asc()
    query = query.order_by(waiting_first, TICKETS.c.id.desc()).limit(SHOWN)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
            counted = await connection.execute(select(TICKETS.c.status, func.count()).group_by(TICKETS.c.status))
            counts = {name: int(n) for name, n in counted}
    except Exception as error:  # noqa: BLE001 - the bot's store down must not fail the console
        logger.warning("Console: the handoff tickets cannot be read: %s", type(error).__name__)
        raise StoreUnavailable from error
    names = await _names(uow, sorted({row.chat_id for row in rows}))
    found = [_conversation(row, names, now) for row in rows]
    # Among the waiting, the one who waited longest first.
    found.sort(key=lambda c: (0, c.created_at.timestamp()) if c.still_waiting else (1, -c.id))
    return Overview(found, {key: counts.get(key, 0) for key in STATUS_LABELS})


async def conversation(
    stores: ExternalStores, uow: UnitOfWork, clerk: Clerk, ticket_id: int, now: datetime, retention_days: int
) -> ConversationPage:
    """One ticket with its transcript while it is kept; reading it goes in the audit log."""
    engine = stores.handoff_engine()
    if engine is None:
        raise StoreUnavailable
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(select(TICKETS).where(TICKETS.c.id == ticket_id))).first()
            lines = (
                await connection.execute(
                    select(TRANSCRIPT.c.at, TRANSCRIPT.c.author, TRANSCRIPT.c.text)
                    .where(TRANSCRIPT.c.ticket_id == ticket_id)
                    .order_by(TRANSCRIPT.c.id)
                )
            ).all()
    except Exception as error:  # noqa: BLE001 - the bot's store down must not fail the console
        logger.warning("Console: a handoff ticket cannot be read: %s", type(error).__name__)
        raise StoreUnavailable from error
    if row is None:
        raise NotFound("conversation")
    found = _conversation(row, await _names(uow, [row.chat_id]), now)
    kept_until = found.closed_at + timedelta(days=retention_days) if found.closed_at is not None else None
    shown = None if kept_until is not None and kept_until <= now else [Line(utc(at), a, t) for at, a, t in lines]
    async with uow:
        staff = StaffRepository(uow.session)
        await staff.audit(
            await staff.user(clerk.id), clerk.username, "conversazione_letta", f"conversazione {ticket_id}", "", now
        )
        await uow.commit()
    return ConversationPage(found, shown, kept_until)
