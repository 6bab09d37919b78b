"""The outbox of notices: what must be told to which chat, claimed by bots with a lease.

Each event writes, in its own transaction, one delivery per chat account linked to its
citizen. Any number of bot replicas claim due deliveries: a claim is a lease (a random token
and an expiry), so a bot that dies mid-send leaves its deliveries to be claimed again when the
lease ends; that is the only window in which a notice can arrive twice. A chat's deliveries
are claimed one at a time, oldest first, so a chat is told in order whichever replica tells it.
Failures back off; permanent ones (the chat is gone, the bot was blocked) and those that keep
failing are parked as `dead` for the office to see.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backoffice import models, schemas

PENDING, SENT, DEAD = "pending", "sent", "dead"
MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300


def backoff(attempts: int) -> timedelta:
    """How long a delivery waits after its `attempts`-th failed try: 2, 4, 8 … up to 5 minutes."""
    return timedelta(seconds=min(2 ** max(attempts, 1), MAX_BACKOFF_SECONDS))


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a bot holds until `lease_until`: the event and the one chat to tell."""

    id: int
    lease: str
    lease_until: datetime
    attempts: int
    recipient: str
    event: schemas.FeedEvent

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "lease": self.lease,
            "lease_until": self.lease_until.isoformat(),
            "attempts": self.attempts,
            "recipient": self.recipient,
            "event": self.event.to_json(),
        }


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, event_id: int, recipients: list[str]) -> None:
        """Queue the event for each recipient (in the caller's transaction)."""
        for recipient in dict.fromkeys(recipients):
            self._session.add(models.Delivery(event_id=event_id, recipient=recipient))

    async def claim(self, channel: str, limit: int, lease_seconds: int, now: datetime) -> list[Claimed]:
        """Lease up to `limit` due deliveries on `channel`, at most one per chat, oldest first."""
        delivery = models.Delivery
        earlier = aliased(models.Delivery)
        waits_behind = exists().where(
            earlier.recipient == delivery.recipient, earlier.status == PENDING, earlier.id < delivery.id
        )
        due = (
            select(delivery.id)
            .where(
                delivery.status == PENDING,
                delivery.available_at <= now,
                delivery.recipient.startswith(f"{channel}:", autoescape=True),
                ~waits_behind,
            )
            .order_by(delivery.id)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            # Replicas claiming at once skip each other's rows instead of waiting on them.
            due = due.with_for_update(skip_locked=True, of=delivery)
        ids = list(await self._session.scalars(due))
        if not ids:
            return []
        lease, until = secrets.token_urlsafe(16), now + timedelta(seconds=lease_seconds)
        # The condition is checked again by the update itself: of two claimers that read the
        # same rows (SQLite has no row locks), only the first update takes them.
        await self._session.execute(
            update(delivery)
            .where(delivery.id.in_(ids), delivery.status == PENDING, delivery.available_at <= now)
            .values(lease=lease, available_at=until, attempts=delivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        rows = await self._session.execute(
            select(delivery, models.Event)
            .join(models.Event, models.Event.id == delivery.event_id)
            .where(delivery.lease == lease)
            .order_by(delivery.id)
        )
        return [
            Claimed(
                id=row.id,
                lease=lease,
                lease_until=until,
                attempts=row.attempts,
                recipient=row.recipient,
                event=schemas.FeedEvent(
                    id=event.id,
                    type=event.type,
                    citizen_id=event.citizen_id,
                    payload=event.payload,
                    created_at=event.created_at,
                    recipients=(row.recipient,),
                ),
            )
            for row, event in rows.tuples()
        ]

    async def sent(self, delivery_id: int, now: datetime) -> bool:
        """Telegram took it: done for good (even if the lease had run out meanwhile)."""
        result = await self._session.execute(
            update(models.Delivery)
            .where(models.Delivery.id == delivery_id, models.Delivery.status == PENDING)
            .values(status=SENT, done_at=now, lease=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def failed(
        self,
        delivery_id: int,
        lease: str,
        now: datetime,
        error: str,
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> str | None:
        """Record a failed try by the lease holder; return the new status, None if not held."""
        row = await self._session.scalar(
            select(models.Delivery).where(
                models.Delivery.id == delivery_id,
                models.Delivery.status == PENDING,
                models.Delivery.lease == lease,
            )
        )
        if row is None:
            return None
        row.last_error, row.lease = error[:120], None
        if permanent or row.attempts >= MAX_ATTEMPTS:
            row.status, row.done_at = DEAD, now
        else:
            wait = backoff(row.attempts)
            if retry_after is not None:
                wait = max(wait, timedelta(seconds=retry_after))
            row.available_at = now + wait
        return row.status

    async def dead(self, limit: int) -> list[dict[str, Any]]:
        """The parked deliveries, newest first, for the office to look at."""
        rows = await self._session.execute(
            select(models.Delivery, models.Event.type)
            .join(models.Event, models.Event.id == models.Delivery.event_id)
            .where(models.Delivery.status == DEAD)
            .order_by(models.Delivery.id.desc())
            .limit(limit)
        )
        return [
            {
                "id": row.id,
                "event_id": row.event_id,
                "event_type": kind,
                "recipient": row.recipient,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "failed_at": row.done_at.isoformat() if row.done_at else None,
            }
            for row, kind in rows.tuples()
        ]

    async def counts(self) -> dict[str, int]:
        """How many deliveries are pending, sent and dead."""
        rows = await self._session.execute(
            select(models.Delivery.status, func.count()).group_by(models.Delivery.status)
        )
        found = {status: int(count) for status, count in rows.tuples()}
        return {status: found.get(status, 0) for status in (PENDING, SENT, DEAD)}
