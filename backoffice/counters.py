"""Counter services (sportelli) and their opening hours, read from the catalogue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice import schemas
from backoffice.db import models
from backoffice.errors import NotFound


class CounterServiceRepository:
    """Counter services (sportelli) and their opening hours."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self) -> list[schemas.CounterService]:
        rows = await self._session.scalars(select(models.CounterService).order_by(models.CounterService.code))
        return [_counter_service(row) for row in rows]

    async def get(self, code: str) -> schemas.CounterService:
        row = await self._session.scalar(
            select(models.CounterService).where(models.CounterService.code == code)
        )
        if row is None:
            raise NotFound(f"counter service {code!r} does not exist")
        return _counter_service(row)


def _counter_service(row: models.CounterService) -> schemas.CounterService:
    return schemas.CounterService(
        code=row.code,
        name=row.name,
        description=row.description,
        location=row.location,
        slot_minutes=row.slot_minutes,
        desks=row.desks,
        opening_hours=tuple(
            schemas.OpeningHours(weekday=int(h["weekday"]), opens=h["opens"], closes=h["closes"])
            for h in row.opening_hours
        ),
        requirements=tuple(str(item) for item in row.requirements or ()),
        fee_cents=row.fee_cents,
        fee_note=row.fee_note,
    )
