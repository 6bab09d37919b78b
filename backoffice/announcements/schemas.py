"""What the avvisi API answers with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Topic:
    code: str
    title: str
    emoji: str
    priority: int

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "emoji": self.emoji, "priority": self.priority}


@dataclass(frozen=True)
class Zone:
    code: str
    name: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True)
class Subscriptions:
    """What one chat account asked for: its zone and its topics."""

    zone: Zone | None
    topics: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"zone": self.zone.to_json() if self.zone else None, "topics": list(self.topics)}


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    topic: Topic
    zones: tuple[str, ...]
    text: str
    attachment: dict[str, Any] | None
    scheduled_at: datetime
    priority: int
    recipients: int
    counts: dict[str, int]
    started_at: datetime | None
    finished_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        pending = self.counts.get("pending", 0)
        took = None
        if pending == 0 and self.started_at and self.finished_at:
            took = round((self.finished_at - self.started_at).total_seconds(), 3)
        return {
            "id": self.id,
            "topic": self.topic.to_json(),
            "zones": list(self.zones),
            "text": self.text,
            "attachment": self.attachment,
            "scheduled_at": self.scheduled_at.isoformat(),
            "priority": self.priority,
            "recipients": self.recipients,
            "stats": {
                "pending": pending,
                "delivered": self.counts.get("sent", 0),
                "failed": self.counts.get("dead", 0),
                "done": pending == 0,
                "seconds": took,
            },
        }
