"""Tables of the avvisi: topics, zones, who asked for what, the notices and the waste calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.db.models.base import Base, EventId, utcnow


class AnnouncementTopic(Base):
    """A kind of notice a citizen may ask for (allerte, rifiuti…); a comune adds one as a row."""

    __tablename__ = "announcement_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(80))
    emoji: Mapped[str] = mapped_column(String(8))
    # Deliveries of a higher priority are claimed before any other queued one.
    priority: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)


class AnnouncementZone(Base):
    """A part of the comune (a frazione), with its outline as a GeoJSON Polygon."""

    __tablename__ = "announcement_zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    geometry: Mapped[dict[str, Any]]
    position: Mapped[int] = mapped_column(default=0)


class AnnouncementSubscriber(Base):
    """A chat account that asked for avvisi, and its zone (none: only notices for everyone)."""

    __tablename__ = "announcement_subscribers"

    channel_user: Mapped[str] = mapped_column(String(80), primary_key=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("announcement_zones.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnouncementSubscription(Base):
    """One topic a chat account asked for."""

    __tablename__ = "announcement_subscriptions"
    __table_args__ = (
        UniqueConstraint("channel_user", "topic_id"),
        Index("ix_announcement_subscriptions_topic", "topic_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user: Mapped[str] = mapped_column(
        ForeignKey("announcement_subscribers.channel_user", ondelete="CASCADE")
    )
    topic_id: Mapped[int] = mapped_column(ForeignKey("announcement_topics.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Announcement(Base):
    """One notice of the comune, fanned out as one event and a delivery per subscriber."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("announcement_topics.id"))
    # Zone codes; empty: the whole comune.
    zones: Mapped[list[Any]]
    text: Mapped[str] = mapped_column(Text)
    # {"kind": "photo" | "document", "file_id" | "url": …, "filename": …}
    attachment: Mapped[dict[str, Any] | None]
    scheduled_at: Mapped[datetime]
    priority: Mapped[int] = mapped_column(default=0)
    # Set by jobs that must announce something once (the waste reminder of a zone and day).
    once_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    event_id: Mapped[int | None] = mapped_column(EventId, ForeignKey("events.id", ondelete="SET NULL"))
    recipients: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WasteCollection(Base):
    """The waste collection calendar: what is collected in a zone on a weekday (0 = Monday)."""

    __tablename__ = "waste_collections"
    __table_args__ = (UniqueConstraint("zone_id", "weekday", "waste"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("announcement_zones.id", ondelete="CASCADE"))
    weekday: Mapped[int]
    waste: Mapped[str] = mapped_column(String(60))
