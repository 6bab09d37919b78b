"""Typed async client of the back-office API, used by actions/ and bot/."""

from backend_client.client import BackOfficeClient, new_idempotency_key, open_client
from backend_client.errors import (
    BackOfficeError,
    BackOfficeUnavailable,
    Conflict,
    InvalidRequest,
    NotFound,
    Unauthorized,
)
from backend_client.models import (
    CounterService,
    EventPage,
    FeedEvent,
    Health,
    OpeningHours,
    PracticeField,
    PracticeType,
)

__all__ = [
    "BackOfficeClient",
    "BackOfficeError",
    "BackOfficeUnavailable",
    "Conflict",
    "CounterService",
    "EventPage",
    "FeedEvent",
    "Health",
    "InvalidRequest",
    "NotFound",
    "OpeningHours",
    "PracticeField",
    "PracticeType",
    "Unauthorized",
    "new_idempotency_key",
    "open_client",
]
