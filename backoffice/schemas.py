"""Plain data objects the repositories return and the routes turn into JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """One opening window of a counter, in local time (Europe/Rome)."""

    weekday: int  # 0 = Monday … 6 = Sunday, as datetime.weekday()
    opens: str  # "08:30"
    closes: str  # "12:30"

    def to_json(self) -> JSONObject:
        return {"weekday": self.weekday, "opens": self.opens, "closes": self.closes}


@dataclass(frozen=True, slots=True)
class CounterService:
    """A counter citizens can book a slot at."""

    code: str
    name: str
    description: str
    location: str
    slot_minutes: int
    desks: int
    opening_hours: tuple[OpeningHours, ...]

    def to_json(self) -> JSONObject:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "location": self.location,
            "slot_minutes": self.slot_minutes,
            "desks": self.desks,
            "opening_hours": [hours.to_json() for hours in self.opening_hours],
        }


@dataclass(frozen=True, slots=True)
class PracticeField:
    """One field a pratica form asks for."""

    name: str
    label: str
    kind: str
    required: bool
    choices: tuple[str, ...] = ()

    def to_json(self) -> JSONObject:
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "required": self.required,
            "choices": list(self.choices),
        }


@dataclass(frozen=True, slots=True)
class PracticeType:
    """A kind of pratica and its form."""

    code: str
    name: str
    description: str
    fields: tuple[PracticeField, ...]

    def to_json(self) -> JSONObject:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "fields": [field.to_json() for field in self.fields],
        }


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One entry of the event feed."""

    id: int
    type: str
    citizen_id: int | None
    payload: JSONObject
    created_at: datetime

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "type": self.type,
            "citizen_id": self.citizen_id,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class EventPage:
    """A page of the feed and the cursor to ask for the next one."""

    events: tuple[FeedEvent, ...]
    last_id: int

    def to_json(self) -> JSONObject:
        return {
            "events": [event.to_json() for event in self.events],
            "last_id": self.last_id,
        }
