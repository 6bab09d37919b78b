"""Plain data objects shared by the areas: JSON bodies, stored files, counter services."""

from __future__ import annotations

from dataclasses import dataclass
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
    requirements: tuple[str, ...] = ()  # what to bring
    fee_cents: int | None = None
    fee_note: str | None = None  # the fee's rule in words (a duplicate costs more…)

    def to_json(self) -> JSONObject:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "location": self.location,
            "slot_minutes": self.slot_minutes,
            "desks": self.desks,
            "opening_hours": [hours.to_json() for hours in self.opening_hours],
            "requirements": list(self.requirements),
            "fee_cents": self.fee_cents,
            "fee_note": self.fee_note,
        }


@dataclass(frozen=True, slots=True)
class StoredFile:
    """The bytes of a document and how to serve them."""

    filename: str
    content_type: str
    content: bytes
