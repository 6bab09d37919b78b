"""One repository per aggregate: the only code that reads and writes the tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice import models, schemas
from backoffice.errors import NotFound

# Any constant works; it only has to be the same for every writer of the feed.
_EVENT_FEED_LOCK = 0x5E0C_FEED


class CounterServiceRepository:
    """Counter services (sportelli) and their opening hours."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self) -> list[schemas.CounterService]:
        rows = await self._session.scalars(
            select(models.CounterService).order_by(models.CounterService.code)
        )
        return [_counter_service(row) for row in rows]

    async def get(self, code: str) -> schemas.CounterService:
        row = await self._session.scalar(
            select(models.CounterService).where(models.CounterService.code == code)
        )
        if row is None:
            raise NotFound(f"counter service {code!r} does not exist")
        return _counter_service(row)


class PracticeTypeRepository:
    """The catalogue of pratica types."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self) -> list[schemas.PracticeType]:
        rows = await self._session.scalars(
            select(models.PracticeType).order_by(models.PracticeType.code)
        )
        return [_practice_type(row) for row in rows]


class EventRepository:
    """The append-only event feed."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(
        self, type: str, payload: dict[str, Any], citizen_id: int | None = None
    ) -> schemas.FeedEvent:
        """Add an event; it becomes visible to readers when the caller's transaction commits."""
        if self._session.get_bind().dialect.name == "postgresql":
            # Sequence values are handed out at insert but become visible at commit, so two
            # concurrent writers could commit ids out of order and a reader whose cursor
            # passed the larger id would never see the smaller one. Serialising writers until
            # commit keeps ids in commit order.
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVENT_FEED_LOCK}
            )
        row = models.Event(type=type, payload=payload, citizen_id=citizen_id)
        self._session.add(row)
        await self._session.flush()
        return _feed_event(row)

    async def after(self, after: int, limit: int) -> schemas.EventPage:
        """Return up to `limit` events with id greater than `after`, oldest first."""
        rows = list(
            await self._session.scalars(
                select(models.Event)
                .where(models.Event.id > after)
                .order_by(models.Event.id)
                .limit(limit)
            )
        )
        events = tuple(_feed_event(row) for row in rows)
        return schemas.EventPage(
            events=events, last_id=events[-1].id if events else after
        )


def _counter_service(row: models.CounterService) -> schemas.CounterService:
    return schemas.CounterService(
        code=row.code,
        name=row.name,
        description=row.description,
        location=row.location,
        slot_minutes=row.slot_minutes,
        desks=row.desks,
        opening_hours=tuple(
            schemas.OpeningHours(
                weekday=int(h["weekday"]), opens=h["opens"], closes=h["closes"]
            )
            for h in row.opening_hours
        ),
    )


def _practice_type(row: models.PracticeType) -> schemas.PracticeType:
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
            )
            for f in row.fields
        ),
    )


def _feed_event(row: models.Event) -> schemas.FeedEvent:
    return schemas.FeedEvent(
        id=row.id,
        type=row.type,
        citizen_id=row.citizen_id,
        payload=row.payload,
        created_at=row.created_at,
    )
