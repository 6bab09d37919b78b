"""Plain data of the cruscotto: the facts read from the stores, and the figures computed from them.

`Figures.to_json()` is the staff's view (it may hold redacted phrases), `Figures.open_data()` has
only counts and rates, `Figures.csv_rows()` one row per day per figure. A figure whose store
could not be read is None: "not available", never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from backoffice.schemas import JSONObject

# --- facts, as the repository reads them ------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrackerEvent:
    """One row of Rasa's `events` table: who, what kind, when (aware UTC), and its JSON."""

    sender_id: str
    type_name: str
    at: datetime
    intent: str | None
    action: str | None
    data: dict[str, Any]

    @property
    def text(self) -> str:
        value = self.data.get("text")
        return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """A handoff ticket: when it was opened and taken by a person (aware UTC), its rating."""

    created_at: datetime
    claimed_at: datetime | None
    rating: int | None


@dataclass(frozen=True, slots=True)
class PracticeFacts:
    """A pratica filed (not a bozza): when, and whether it came from the chat."""

    created_at: datetime
    via_chat: bool


@dataclass(frozen=True, slots=True)
class Period:
    """The days asked for, Rome's calendar, both ends included."""

    first: date
    last: date

    def days(self) -> list[date]:
        return [date.fromordinal(n) for n in range(self.first.toordinal(), self.last.toordinal() + 1)]


# --- figures --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One day's figures; None where the store they come from could not be read."""

    day: date
    conversations: int | None = None
    handed_to_person: int | None = None
    solved_by_bot: int | None = None
    user_messages: int | None = None
    fallbacks: int | None = None
    out_of_hours: int | None = None
    tickets: int | None = None
    wait_median_seconds: float | None = None
    wait_p90_seconds: float | None = None
    ratings: int | None = None
    rating_average: float | None = None
    practices_chat: int = 0
    practices_other: int = 0

    def to_json(self) -> JSONObject:
        return {
            "date": self.day.isoformat(),
            "conversations": self.conversations,
            "handed_to_person": self.handed_to_person,
            "solved_by_bot": self.solved_by_bot,
            "user_messages": self.user_messages,
            "fallbacks": self.fallbacks,
            "out_of_hours": self.out_of_hours,
            "tickets": self.tickets,
            "wait_median_seconds": self.wait_median_seconds,
            "wait_p90_seconds": self.wait_p90_seconds,
            "ratings": self.ratings,
            "rating_average": self.rating_average,
            "practices_chat": self.practices_chat,
            "practices_other": self.practices_other,
        }


@dataclass(frozen=True, slots=True)
class Totals:
    """The period's sums and the rates made from them."""

    conversations: int | None
    handed_to_person: int | None
    solved_by_bot: int | None
    bot_share: float | None
    person_share: float | None
    user_messages: int | None
    fallbacks: int | None
    fallback_rate: float | None
    out_of_hours: int | None
    practices_chat: int
    practices_other: int
    chat_share: float | None

    def to_json(self) -> JSONObject:
        return {
            "conversations": self.conversations,
            "handed_to_person": self.handed_to_person,
            "solved_by_bot": self.solved_by_bot,
            "bot_share": self.bot_share,
            "person_share": self.person_share,
            "user_messages": self.user_messages,
            "fallbacks": self.fallbacks,
            "fallback_rate": self.fallback_rate,
            "out_of_hours": self.out_of_hours,
            "practices_chat": self.practices_chat,
            "practices_other": self.practices_other,
            "chat_share": self.chat_share,
        }


@dataclass(frozen=True, slots=True)
class IntentCount:
    intent: str
    count: int

    def to_json(self) -> JSONObject:
        return {"intent": self.intent, "count": self.count}


@dataclass(frozen=True, slots=True)
class Phrase:
    """A message the assistant did not understand, redacted and cut short, with how often."""

    text: str
    count: int
    senders: int

    def to_json(self) -> JSONObject:
        return {"text": self.text, "count": self.count, "senders": self.senders}


@dataclass(frozen=True, slots=True)
class FormStep:
    """A question of a form (the slot it asks for): how many runs reached it, left at it."""

    step: str
    reached: int
    dropped: int

    @property
    def drop_rate(self) -> float | None:
        return rate(self.dropped, self.reached)

    def to_json(self) -> JSONObject:
        return {"step": self.step, "reached": self.reached, "dropped": self.dropped, "drop_rate": self.drop_rate}


@dataclass(frozen=True, slots=True)
class FormFunnel:
    """One form: how many times it was started and completed, and each step."""

    form: str
    started: int
    completed: int
    steps: tuple[FormStep, ...] = ()

    @property
    def completion_rate(self) -> float | None:
        return rate(self.completed, self.started)

    def to_json(self) -> JSONObject:
        return {
            "form": self.form,
            "started": self.started,
            "completed": self.completed,
            "completion_rate": self.completion_rate,
            "steps": [step.to_json() for step in self.steps],
        }


@dataclass(frozen=True, slots=True)
class WaitingTime:
    """How long citizens waited for a person: tickets taken, still waiting, median and p90."""

    claimed: int
    unclaimed: int
    median_seconds: float | None
    p90_seconds: float | None

    def to_json(self) -> JSONObject:
        return {
            "claimed": self.claimed,
            "unclaimed": self.unclaimed,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
        }


@dataclass(frozen=True, slots=True)
class Ratings:
    """The citizens' ratings (1-5) after a chat with a person."""

    count: int
    average: float | None
    by_score: dict[int, int] = field(default_factory=dict)

    def to_json(self) -> JSONObject:
        return {
            "count": self.count,
            "average": self.average,
            "by_score": {str(score): self.by_score.get(score, 0) for score in range(1, 6)},
        }


@dataclass(frozen=True, slots=True)
class Sources:
    """Which stores could be read for these figures."""

    tracker_store: bool
    handoff: bool
    office_hours: bool

    def to_json(self) -> JSONObject:
        return {"tracker_store": self.tracker_store, "handoff": self.handoff, "office_hours": self.office_hours}


@dataclass(frozen=True, slots=True)
class Figures:
    """Every figure of the cruscotto for one period."""

    period: Period
    days: tuple[DayFigures, ...]
    totals: Totals
    top_intents: tuple[IntentCount, ...] | None
    phrases: tuple[Phrase, ...] | None
    forms: tuple[FormFunnel, ...] | None
    waiting: WaitingTime | None
    ratings: Ratings | None
    sources: Sources

    def _common(self) -> JSONObject:
        return {
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "sources": self.sources.to_json(),
            "totals": self.totals.to_json(),
            "days": [day.to_json() for day in self.days],
            "top_intents": None if self.top_intents is None else [i.to_json() for i in self.top_intents],
            "forms": None if self.forms is None else [f.to_json() for f in self.forms],
            "waiting": None if self.waiting is None else self.waiting.to_json(),
            "ratings": None if self.ratings is None else self.ratings.to_json(),
        }

    def to_json(self) -> JSONObject:
        """The staff's view: everything, with the misunderstood phrases (redacted)."""
        return {
            **self._common(),
            "misunderstood_phrases": None if self.phrases is None else [p.to_json() for p in self.phrases],
        }

    def open_data(self) -> JSONObject:
        """Counts and rates only: no message, no sender, no ticket."""
        return {
            "licence": "CC-BY-4.0",
            **self._common(),
        }


def rate(part: int | None, whole: int | None) -> float | None:
    """part / whole rounded to 4 digits; None when either is unknown or whole is 0."""
    if part is None or whole is None or whole == 0:
        return None
    return round(part / whole, 4)
