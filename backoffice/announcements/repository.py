"""Avvisi rows <-> domain objects; the fan-out is one INSERT … SELECT into the outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.announcements.schemas import Subscriptions, Topic, Zone
from backoffice.db import models
from backoffice.events.domain import PENDING


def topic_view(row: models.AnnouncementTopic) -> Topic:
    return Topic(code=row.code, title=row.title, emoji=row.emoji, priority=row.priority)


class AnnouncementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- topics and zones ------------------------------------------------------------

    async def topics(self) -> list[models.AnnouncementTopic]:
        return list(
            await self._session.scalars(
                select(models.AnnouncementTopic).order_by(models.AnnouncementTopic.position)
            )
        )

    async def topic(self, code: str) -> models.AnnouncementTopic | None:
        return await self._session.scalar(
            select(models.AnnouncementTopic).where(models.AnnouncementTopic.code == code)
        )

    async def zones(self) -> list[models.AnnouncementZone]:
        return list(
            await self._session.scalars(
                select(models.AnnouncementZone).order_by(models.AnnouncementZone.position)
            )
        )

    # --- subscriptions ---------------------------------------------------------------

    async def subscriptions(self, channel_user: str) -> Subscriptions:
        subscriber = await self._session.get(models.AnnouncementSubscriber, channel_user)
        zone = None
        if subscriber is not None and subscriber.zone_id is not None:
            row = await self._session.get(models.AnnouncementZone, subscriber.zone_id)
            zone = Zone(row.code, row.name) if row else None
        codes = await self._session.scalars(
            select(models.AnnouncementTopic.code)
            .join(
                models.AnnouncementSubscription,
                models.AnnouncementSubscription.topic_id == models.AnnouncementTopic.id,
            )
            .where(models.AnnouncementSubscription.channel_user == channel_user)
            .order_by(models.AnnouncementTopic.position)
        )
        return Subscriptions(zone=zone, topics=tuple(codes))

    async def ensure_subscriber(self, channel_user: str) -> models.AnnouncementSubscriber:
        subscriber = await self._session.get(models.AnnouncementSubscriber, channel_user)
        if subscriber is None:
            subscriber = models.AnnouncementSubscriber(channel_user=channel_user)
            self._session.add(subscriber)
            try:
                async with self._session.begin_nested():
                    await self._session.flush()
            except IntegrityError:  # the same chat, in two requests at once
                subscriber = await self._session.get(models.AnnouncementSubscriber, channel_user)
                assert subscriber is not None
        return subscriber

    async def subscribe(self, channel_user: str, topic_id: int) -> None:
        exists = await self._session.scalar(
            select(models.AnnouncementSubscription.id).where(
                models.AnnouncementSubscription.channel_user == channel_user,
                models.AnnouncementSubscription.topic_id == topic_id,
            )
        )
        if exists is None:
            try:
                async with self._session.begin_nested():
                    self._session.add(
                        models.AnnouncementSubscription(channel_user=channel_user, topic_id=topic_id)
                    )
                    await self._session.flush()
            except IntegrityError:
                pass  # already there: a double tap

    async def unsubscribe(self, channel_user: str, topic_id: int | None) -> None:
        """Stop one topic, or with None every topic (the subscriber and its zone go too)."""
        if topic_id is None:
            await self._session.execute(
                delete(models.AnnouncementSubscription).where(
                    models.AnnouncementSubscription.channel_user == channel_user
                )
            )
            await self._session.execute(
                delete(models.AnnouncementSubscriber).where(
                    models.AnnouncementSubscriber.channel_user == channel_user
                )
            )
            return
        await self._session.execute(
            delete(models.AnnouncementSubscription).where(
                models.AnnouncementSubscription.channel_user == channel_user,
                models.AnnouncementSubscription.topic_id == topic_id,
            )
        )

    # --- announcements ---------------------------------------------------------------

    async def add(self, row: models.Announcement) -> bool:
        """Write the notice; False when its once_key was written already (a job ran twice)."""
        try:
            async with self._session.begin_nested():
                self._session.add(row)
                await self._session.flush()
        except IntegrityError:
            return False
        return True

    async def session_flush(self) -> None:
        await self._session.flush()

    async def fan_out(self, row: models.Announcement, zone_ids: list[int], now: datetime) -> int:
        """Queue one delivery of the notice's event per subscriber of its topic and zones."""
        sub, who = models.AnnouncementSubscription, models.AnnouncementSubscriber
        condition = [sub.topic_id == row.topic_id]
        if zone_ids:
            condition.append(who.zone_id.in_(zone_ids))
        recipients = (
            select(
                literal(row.event_id),
                sub.channel_user,
                literal(PENDING),
                literal(0),
                literal(row.priority),
                literal(row.scheduled_at, type_=models.Delivery.available_at.type),
                literal(now, type_=models.Delivery.created_at.type),
            )
            .join(who, who.channel_user == sub.channel_user)
            .where(and_(*condition))
        )
        delivery = models.Delivery
        await self._session.execute(
            insert(delivery).from_select(
                ["event_id", "recipient", "status", "attempts", "priority", "available_at", "created_at"],
                recipients,
            )
        )
        count = await self._session.scalar(
            select(func.count()).select_from(delivery).where(delivery.event_id == row.event_id)
        )
        return int(count or 0)

    async def get(self, announcement_id: int) -> tuple[models.Announcement, models.AnnouncementTopic] | None:
        found = await self._session.execute(
            select(models.Announcement, models.AnnouncementTopic)
            .join(models.AnnouncementTopic, models.AnnouncementTopic.id == models.Announcement.topic_id)
            .where(models.Announcement.id == announcement_id)
        )
        pair = found.tuples().first()
        return (pair[0], pair[1]) if pair else None

    async def delivery_stats(
        self, event_id: int | None
    ) -> tuple[dict[str, int], datetime | None, datetime | None]:
        """Counts by status, when the first try began and when the last one ended."""
        if event_id is None:
            return {}, None, None
        delivery = models.Delivery
        rows = await self._session.execute(
            select(delivery.status, func.count())
            .where(delivery.event_id == event_id)
            .group_by(delivery.status)
        )
        counts = {status: int(n) for status, n in rows.tuples()}
        span = (
            await self._session.execute(
                select(func.min(delivery.created_at), func.max(delivery.done_at)).where(
                    delivery.event_id == event_id
                )
            )
        ).one()
        return counts, span[0], span[1]

    # --- the waste calendar ----------------------------------------------------------

    async def collections_on(self, day: date) -> dict[int, list[str]]:
        """What each zone has collected on `day`, by zone id."""
        rows = await self._session.execute(
            select(models.WasteCollection.zone_id, models.WasteCollection.waste)
            .where(models.WasteCollection.weekday == day.weekday())
            .order_by(models.WasteCollection.zone_id, models.WasteCollection.id)
        )
        found: dict[int, list[str]] = {}
        for zone_id, waste in rows.tuples():
            found.setdefault(zone_id, []).append(waste)
        return found


def zones_matching(
    zones: list[models.AnnouncementZone], codes: list[Any]
) -> list[models.AnnouncementZone] | None:
    """The zones named by `codes`, or None if one is unknown."""
    by_code = {zone.code: zone for zone in zones}
    if any(code not in by_code for code in codes):
        return None
    return [by_code[code] for code in dict.fromkeys(codes)]
