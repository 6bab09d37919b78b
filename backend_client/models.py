"""Typed results of the back-office client, validated from the API's JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FieldKind = Literal[
    "text", "date", "address", "choice", "fiscal_code", "attachment", "location"
]


class _Result(BaseModel):
    # Frozen: results are values. Unknown keys are ignored so the server may add fields.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Health(_Result):
    """Whether the back office and its database answer."""

    status: str
    database: str


class OpeningHours(_Result):
    """One opening window of a counter, in local time (Europe/Rome); weekday 0 is Monday."""

    weekday: int = Field(ge=0, le=6)
    opens: str
    closes: str


class CounterService(_Result):
    """A counter (sportello) citizens can book a slot at."""

    code: str
    name: str
    description: str
    location: str
    slot_minutes: int
    desks: int
    opening_hours: tuple[OpeningHours, ...]


class PracticeField(_Result):
    """One field a pratica form asks for."""

    name: str
    label: str
    kind: FieldKind
    required: bool
    choices: tuple[str, ...] = ()


class PracticeType(_Result):
    """A kind of pratica and the fields its form asks for."""

    code: str
    name: str
    description: str
    fields: tuple[PracticeField, ...]


class FeedEvent(_Result):
    """One entry of the back office's event feed."""

    id: int
    type: str
    citizen_id: int | None
    payload: dict[str, Any]
    created_at: datetime


class EventPage(_Result):
    """A page of the event feed and the cursor to persist and pass as `after` next time."""

    events: tuple[FeedEvent, ...]
    last_id: int
