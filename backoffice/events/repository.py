"""Event feed and outbox rows <-> domain objects; the feed's writers keep ids in commit order."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backoffice.db import models
from backoffice.events.domain import DEAD, PENDING, SENT, STATUSES, new_lease
from backoffice.events.schemas import Claimed, EventPage, FeedEvent

# Any constant works; it only has to be the same for every writer of the feed.
_EVENT_FEED_LOCK = 0x5E0C_FEED


class EventRepository:
    """The append-only event feed."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(
        self,
        type: str,
        payload: dict[str, Any],
        citizen_id: int | None = None,
        channel_user: str | None = None,
    ) -> FeedEvent:
        """Add an event; it becomes visible to readers when the caller's transaction commits."""
        if self._session.get_bind().dialect.name == "postgresql":
            # Sequence values are handed out at insert but become visible at commit, so two
            # concurrent writers could commit ids out of order and a reader whose cursor
            # passed the larger id would never see the smaller one. Serialising writers until
            # commit keeps ids in commit order.
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVENT_FEED_LOCK}
            )
        row = models.Event(
            type=type, payload=payload, citizen_id=citizen_id, channel_user=channel_user
        )
        self._session.add(row)
        await self._session.flush()
        if citizen_id is not None:
            recipients = (await self._recipients({citizen_id})).get(citizen_id, [])
        else:
            recipients = [channel_user] if channel_user else []
        # The outbox: what the bots must tell, written in the same transaction as the event.
        DeliveryRepository(self._session).add(row.id, recipients)
        return _feed_event(row, tuple(recipients))

    async def after(self, after: int, limit: int) -> EventPage:
        """Return up to `limit` events with id greater than `after`, oldest first."""
        rows = list(
            await self._session.scalars(
                select(models.Event)
                .where(models.Event.id > after)
                .order_by(models.Event.id)
                .limit(limit)
            )
        )
        recipients = await self._recipients(
            {row.citizen_id for row in rows if row.citizen_id is not None}
        )
        events = tuple(
            _feed_event(
                row,
                tuple(recipients.get(row.citizen_id, ()))
                if row.citizen_id is not None
                else ((row.channel_user,) if row.channel_user else ()),
            )
            for row in rows
        )
        return EventPage(
            events=events, last_id=events[-1].id if events else after
        )

    async def _recipients(self, citizen_ids: set[int]) -> dict[int, list[str]]:
        """The channel users linked to each citizen now (a link made later is told too)."""
        if not citizen_ids:
            return {}
        links = await self._session.scalars(
            select(models.ChannelLink)
            .where(models.ChannelLink.citizen_id.in_(citizen_ids))
            .order_by(models.ChannelLink.id)
        )
        recipients: dict[int, list[str]] = {}
        for link in links:
            recipients.setdefault(link.citizen_id, []).append(
                f"{link.channel}:{link.channel_user_id}"
            )
        return recipients


def _feed_event(
    row: models.Event, recipients: tuple[str, ...] = ()
) -> FeedEvent:
    return FeedEvent(
        id=row.id,
        type=row.type,
        citizen_id=row.citizen_id,
        payload=row.payload,
        created_at=row.created_at,
        recipients=recipients,
    )


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, event_id: int, recipients: list[str]) -> None:
        """Queue the event for each recipient (in the caller's transaction)."""
        for recipient in dict.fromkeys(recipients):
            self._session.add(models.Delivery(event_id=event_id, recipient=recipient))

    async def claim(self, channel: str, limit: int, lease_seconds: int, now: datetime) -> list[Claimed]:
        """Lease up to `limit` due deliveries on `channel`, at most one per chat, the highest
        priority (an alert of protezione civile) first, then oldest first."""
        delivery = models.Delivery
        earlier = aliased(models.Delivery)
        # A chat's notices go one at a time: first by priority, then oldest first. A notice
        # scheduled for later and never tried yet holds nobody up.
        waits_behind = exists().where(
            earlier.recipient == delivery.recipient,
            earlier.status == PENDING,
            or_(earlier.attempts > 0, earlier.available_at <= now),
            or_(
                earlier.priority > delivery.priority,
                and_(earlier.priority == delivery.priority, earlier.id < delivery.id),
            ),
        )
        due = (
            select(delivery.id)
            .where(
                delivery.status == PENDING,
                delivery.available_at <= now,
                delivery.recipient.startswith(f"{channel}:", autoescape=True),
                ~waits_behind,
            )
            .order_by(delivery.priority.desc(), delivery.id)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            # Replicas claiming at once skip each other's rows instead of waiting on them.
            due = due.with_for_update(skip_locked=True, of=delivery)
        ids = list(await self._session.scalars(due))
        if not ids:
            return []
        lease, until = new_lease(), now + timedelta(seconds=lease_seconds)
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
            .order_by(delivery.priority.desc(), delivery.id)
        )
        return [
            Claimed(
                id=row.id,
                lease=lease,
                lease_until=until,
                attempts=row.attempts,
                recipient=row.recipient,
                event=FeedEvent(
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

    async def held(self, delivery_id: int, lease: str) -> models.Delivery | None:
        """The pending delivery if `lease` holds it."""
        return await self._session.scalar(
            select(models.Delivery).where(
                models.Delivery.id == delivery_id,
                models.Delivery.status == PENDING,
                models.Delivery.lease == lease,
            )
        )

    async def record_failure(
        self, row: models.Delivery, error: str, status: str, available_at: datetime
    ) -> None:
        """Write a failed try: the error, no lease, and its status from then on."""
        row.last_error, row.lease = error, None
        if status == DEAD:
            row.status, row.done_at = DEAD, available_at
        else:
            row.available_at = available_at
        await self._session.flush()

    async def retry(self, delivery_id: int, now: datetime) -> bool:
        """Put a parked delivery back in the queue (the office's "Riprova"), as a new one."""
        result = await self._session.execute(
            update(models.Delivery)
            .where(models.Delivery.id == delivery_id, models.Delivery.status == DEAD)
            .values(status=PENDING, attempts=0, available_at=now, done_at=None, last_error=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

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
        return {status: found.get(status, 0) for status in STATUSES}
