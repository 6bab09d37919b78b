"""What the feed and the outbox answer: events, a page of the feed, a claimed delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One entry of the event feed."""

    id: int
    type: str
    citizen_id: int | None
    payload: JSONObject
    created_at: datetime
    # The channel users to tell ("telegram:123"), resolved when the feed is read.
    recipients: tuple[str, ...] = ()

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "type": self.type,
            "citizen_id": self.citizen_id,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(),
            "recipients": list(self.recipients),
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


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a bot holds until `lease_until`: the event and the one chat to tell."""

    id: int
    lease: str
    lease_until: datetime
    attempts: int
    recipient: str
    event: FeedEvent

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "lease": self.lease,
            "lease_until": self.lease_until.isoformat(),
            "attempts": self.attempts,
            "recipient": self.recipient,
            "event": self.event.to_json(),
        }
