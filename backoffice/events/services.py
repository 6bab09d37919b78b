"""Use cases of the feed and the outbox: read the feed, claim, report sent or failed, retry, count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backoffice.db import UnitOfWork
from backoffice.errors import NotFound
from backoffice.events import domain
from backoffice.events.repository import DeliveryRepository, EventRepository
from backoffice.events.schemas import Claimed, EventPage


async def events_after(uow: UnitOfWork, after: int, limit: int) -> EventPage:
    """Up to `limit` events after the cursor, oldest first, with the cursor to use next."""
    async with uow:
        return await EventRepository(uow.session).after(after, limit)


async def claim(uow: UnitOfWork, channel: str, limit: int, lease_seconds: int, now: datetime) -> list[Claimed]:
    """Lease up to `limit` due deliveries of `channel`, at most one per chat, oldest first."""
    async with uow:
        claimed = await DeliveryRepository(uow.session).claim(channel, limit, lease_seconds, now)
        await uow.commit()
    return claimed


async def mark_sent(uow: UnitOfWork, delivery_id: int, now: datetime) -> bool:
    """Telegram took it: done for good (even if the lease had run out meanwhile)."""
    async with uow:
        changed = await DeliveryRepository(uow.session).sent(delivery_id, now)
        await uow.commit()
    return changed


async def mark_failed(
    uow: UnitOfWork,
    delivery_id: int,
    lease: str,
    now: datetime,
    error: str,
    permanent: bool,
    retry_after: float | None,
) -> str:
    """A failed try by the lease holder; the delivery's new status. NotFound if not held."""
    async with uow:
        outbox = DeliveryRepository(uow.session)
        row = await outbox.held(delivery_id, lease)
        if row is None:
            raise NotFound("no delivery held with this lease")
        status, at = domain.after_failure(row.attempts, permanent, retry_after, now)
        await outbox.record_failure(row, error[: domain.ERROR_LENGTH], status, at)
        await uow.commit()
    return status


async def retry(uow: UnitOfWork, delivery_id: int, now: datetime) -> bool:
    """Put a parked delivery back in the queue (the office's "Riprova"), as a new one."""
    async with uow:
        retried = await DeliveryRepository(uow.session).retry(delivery_id, now)
        await uow.commit()
    return retried


async def overview(uow: UnitOfWork, limit: int) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """How many deliveries are pending, sent and dead, and the latest `limit` dead ones."""
    async with uow:
        outbox = DeliveryRepository(uow.session)
        return await outbox.counts(), await outbox.dead(limit)


async def counts(uow: UnitOfWork) -> dict[str, int]:
    async with uow:
        return await DeliveryRepository(uow.session).counts()
