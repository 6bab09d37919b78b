"""Rules of the outbox: a delivery's statuses, its leases, how long it waits after a failure.

Each event writes, in its own transaction, one delivery per chat account linked to its
citizen. Any number of bot replicas claim due deliveries: a claim is a lease (a random token
and an expiry), so a bot that dies mid-send leaves its deliveries to be claimed again when the
lease ends; that is the only window in which a notice can arrive twice. A chat's deliveries
are claimed one at a time, oldest first, so a chat is told in order whichever replica tells it.
Failures back off; permanent ones (the chat is gone, the bot was blocked) and those that keep
failing are parked as `dead` for the office to see.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

PENDING, SENT, DEAD = "pending", "sent", "dead"
STATUSES = (PENDING, SENT, DEAD)
MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300
# Channels whose bots claim deliveries; a recipient is "<channel>:<user id>".
CHANNELS = frozenset({"telegram"})
CLAIM_MAX = 200
LEASE_MIN, LEASE_MAX, LEASE_DEFAULT = 5, 600, 60
EVENTS_DEFAULT_LIMIT = 100
EVENTS_MAX_LIMIT = 500
ERROR_LENGTH = 120


def backoff(attempts: int) -> timedelta:
    """How long a delivery waits after its `attempts`-th failed try: 2, 4, 8 … up to 5 minutes."""
    return timedelta(seconds=min(2 ** max(attempts, 1), MAX_BACKOFF_SECONDS))


def new_lease() -> str:
    return secrets.token_urlsafe(16)


def after_failure(
    attempts: int, permanent: bool, retry_after: float | None, now: datetime
) -> tuple[str, datetime]:
    """(status, when) after a failed try: parked dead now, or pending again from `when`."""
    if permanent or attempts >= MAX_ATTEMPTS:
        return DEAD, now
    wait = backoff(attempts)
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=retry_after))
    return PENDING, now + wait
