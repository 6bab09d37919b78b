"""Typed results of the event feed and its outbox deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend_client.models.base import Result


class FeedEvent(Result):
    """One entry of the back office's event feed."""

    id: int
    type: str
    citizen_id: int | None
    payload: dict[str, Any]
    created_at: datetime
    # The chat accounts to tell ("telegram:123"), resolved when the feed was read.
    recipients: tuple[str, ...] = ()


class EventPage(Result):
    """A page of the event feed and the cursor to persist and pass as `after` next time."""

    events: tuple[FeedEvent, ...]
    last_id: int


class Delivery(Result):
    """One notice the back office wants told to one chat, held by this bot until `lease_until`."""

    id: int
    lease: str
    lease_until: datetime
    attempts: int
    recipient: str
    event: FeedEvent
