"""Use cases of the avvisi: topics and zones, a chat's subscriptions, publishing, the waste reminder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backoffice.announcements import domain
from backoffice.announcements.repository import AnnouncementRepository, topic_view, zones_matching
from backoffice.announcements.schemas import AnnouncementView, Subscriptions, Topic, Zone
from backoffice.db import UnitOfWork, models
from backoffice.errors import InvalidRequest, NotFound
from backoffice.events.repository import EventRepository
from backoffice.http.idempotency import IdempotencyRepository, request_fingerprint
from backoffice.identity.domain import ChannelUser


async def catalogue(uow: UnitOfWork) -> tuple[list[Topic], list[Zone]]:
    async with uow:
        repo = AnnouncementRepository(uow.session)
        topics = [topic_view(row) for row in await repo.topics()]
        zones = [Zone(row.code, row.name) for row in await repo.zones()]
    return topics, zones


async def locate(uow: UnitOfWork, lat: float, lon: float) -> Zone | None:
    """The zone of a point (a location the citizen sent), or None outside every zone."""
    async with uow:
        zones = [
            (zone.code, zone.name, zone.geometry)
            for zone in await AnnouncementRepository(uow.session).zones()
        ]
    code = domain.zone_at(((code, geometry) for code, _, geometry in zones), lat, lon)
    return next((Zone(found, name) for found, name, _ in zones if found == code), None)


async def subscriptions(uow: UnitOfWork, user: ChannelUser) -> Subscriptions:
    async with uow:
        return await AnnouncementRepository(uow.session).subscriptions(str(user))


async def update(
    uow: UnitOfWork, user: ChannelUser, topic: str | None, subscribed: bool | None, zone: str | None
) -> Subscriptions:
    """Subscribe to or stop a topic and/or choose the zone; answer what is on now."""
    async with uow:
        repo = AnnouncementRepository(uow.session)
        subscriber = await repo.ensure_subscriber(str(user))
        if zone is not None:
            found = zones_matching(await repo.zones(), [zone])
            if not found:
                raise NotFound("no such zone")
            subscriber.zone_id = found[0].id
        if topic is not None:
            row = await repo.topic(topic)
            if row is None:
                raise NotFound("no such topic")
            if subscribed:
                await repo.subscribe(str(user), row.id)
            else:
                await repo.unsubscribe(str(user), row.id)
        await uow.session.flush()
        answer = await repo.subscriptions(str(user))
        await uow.commit()
    return answer


async def stop_all(uow: UnitOfWork, user: ChannelUser) -> None:
    """ "Non voglio più avvisi": every topic stops and the zone is forgotten."""
    async with uow:
        await AnnouncementRepository(uow.session).unsubscribe(str(user), None)
        await uow.commit()


async def _publish(
    repo: AnnouncementRepository,
    events: EventRepository,
    topic: models.AnnouncementTopic,
    zones: list[models.AnnouncementZone],
    text: str,
    attachment: dict[str, Any] | None,
    scheduled_at: datetime,
    now: datetime,
    staff: str | None,
    once_key: str | None = None,
) -> models.Announcement | None:
    row = models.Announcement(
        topic_id=topic.id,
        zones=[zone.code for zone in zones],
        text=text,
        attachment=attachment,
        scheduled_at=scheduled_at,
        priority=topic.priority,
        once_key=once_key,
        created_by=staff,
        created_at=now,
    )
    if not await repo.add(row):
        return None
    event = await events.append(
        domain.EVENT_TYPE,
        {
            "announcement_id": row.id,
            "topic": topic.code,
            "topic_title": topic.title,
            "emoji": topic.emoji,
            "zones": [zone.name for zone in zones],
            "text": text,
            "attachment": attachment,
        },
    )
    row.event_id = event.id
    await repo.session_flush()
    row.recipients = await repo.fan_out(row, [zone.id for zone in zones], now)
    return row


async def publish(
    uow: UnitOfWork,
    body: dict[str, Any],
    staff: str,
    key: str | None,
    now: datetime,
) -> tuple[int, dict[str, Any]]:
    """Write the notice and queue it for every subscriber, once per Idempotency-Key."""
    text = domain.check_text(body.get("text"))
    attachment = domain.check_attachment(body.get("attachment"))
    codes = body.get("zones", [])
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        raise InvalidRequest("zones must be a list of zone codes (empty: the whole comune)")
    scheduled_at = now
    if body.get("scheduled_at") is not None:
        try:
            scheduled_at = datetime.fromisoformat(str(body["scheduled_at"]))
        except ValueError:
            raise InvalidRequest("scheduled_at must be an ISO date and time with its offset") from None
        if scheduled_at.tzinfo is None:
            raise InvalidRequest("scheduled_at must carry its offset (e.g. +01:00)")
        scheduled_at = max(scheduled_at, now)
    actor = ChannelUser("staff", staff)
    fingerprint = request_fingerprint({"announcement": body})
    async with uow:
        idempotency = IdempotencyRepository(uow.session)
        record = None
        if key is not None:
            stored = await idempotency.stored_response(actor, key, fingerprint, now)
            if stored is not None:
                return stored
            record = await idempotency.reserve(actor, key, fingerprint, now)
            if record is None:
                stored = await idempotency.stored_response(actor, key, fingerprint, now)
                if stored is None:
                    raise InvalidRequest("try again")
                return stored
        repo = AnnouncementRepository(uow.session)
        topic = await repo.topic(str(body.get("topic", "")))
        if topic is None:
            raise NotFound("no such topic")
        zones = zones_matching(await repo.zones(), codes)
        if zones is None:
            raise NotFound("no such zone")
        row = await _publish(
            repo, EventRepository(uow.session), topic, zones, text, attachment, scheduled_at, now, staff
        )
        assert row is not None  # no once_key: nothing to collide with
        view = await _view(repo, row, topic)
        answer = view.to_json()
        if record is not None:
            record.status_code, record.response = 201, answer
        await uow.commit()
    return 201, answer


async def _view(
    repo: AnnouncementRepository, row: models.Announcement, topic: models.AnnouncementTopic
) -> AnnouncementView:
    counts, started, finished = await repo.delivery_stats(row.event_id)
    return AnnouncementView(
        id=row.id,
        topic=topic_view(topic),
        zones=tuple(row.zones),
        text=row.text,
        attachment=row.attachment,
        scheduled_at=row.scheduled_at,
        priority=row.priority,
        recipients=row.recipients,
        counts=counts,
        started_at=started,
        finished_at=finished,
    )


async def get(uow: UnitOfWork, announcement_id: int) -> AnnouncementView:
    """The notice with its delivery stats: delivered, failed (blocked bot), time taken."""
    async with uow:
        repo = AnnouncementRepository(uow.session)
        found = await repo.get(announcement_id)
        if found is None:
            raise NotFound("no such announcement")
        return await _view(repo, *found)


async def waste_reminders(uow: UnitOfWork, now: datetime) -> int:
    """From 19:00 Rome time, announce tomorrow's collection once per zone; how many were new."""
    day = domain.waste_reminder_due(now)
    if day is None:
        return 0
    written = 0
    async with uow:
        repo = AnnouncementRepository(uow.session)
        topic = await repo.topic(domain.WASTE_TOPIC)
        if topic is None:
            return 0
        collections = await repo.collections_on(day)
        events = EventRepository(uow.session)
        for zone in await repo.zones():
            kinds = collections.get(zone.id)
            if not kinds:
                continue
            row = await _publish(
                repo,
                events,
                topic,
                [zone],
                domain.waste_text(zone.name, day, kinds),
                None,
                now,
                now,
                None,
                once_key=domain.waste_once_key(zone.code, day),
            )
            written += row is not None
        await uow.commit()
    return written
