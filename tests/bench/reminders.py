"""How fast reminders leave, and that they stay under Telegram's limit: `make bench`.

A burst of payment reminders for many citizens goes through the same relay, renderer and
rate limiter the bot uses, to the local Bot API server. Telegram asks for about 30 messages a
second overall; the bench prints the rate reached with PTB's AIORateLimiter and without it
and the time a 429 with retry_after costs. It fails if any second carries more than 30.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from telegram.ext import ExtBot

from backend_client import EventPage, FeedEvent
from bot.app import rate_limiter
from bot.notifications import Cursor, NotificationRelay
from bot.render import Renderer
from tests.botapi import BotApiDriver, BotApiServerThread

CITIZENS = 150
TELEGRAM_LIMIT_PER_SECOND = 30


class Feed:
    """The back office's event feed, in memory: one reminder per citizen."""

    def __init__(self, user_ids: list[int]) -> None:
        self.events = [
            FeedEvent(
                id=number,
                type="payment_reminder",
                citizen_id=number,
                payload={"position_id": number, "description": "TARI 2026, 2ª rata", "amount_cents": 14350,
                         "due_date": "2026-12-16"},
                created_at=datetime.now(UTC),
                recipients=(f"telegram:{user_id}",),
            )
            for number, user_id in enumerate(user_ids, start=1)
        ]

    async def events_after(self, after: int, limit: int = 100) -> EventPage:
        page = tuple(e for e in self.events if e.id > after)[:limit]
        return EventPage(events=page, last_id=page[-1].id if page else after)


async def burst(server: BotApiServerThread, user_ids: list[int], limited: bool, state: Path) -> float:
    """Deliver one reminder to each citizen; return the seconds it took."""
    feed = Feed(user_ids)
    limiter = rate_limiter() if limited else None
    async with aiohttp.ClientSession() as session, ExtBot(
        server.token, base_url=server.bot_url, base_file_url=server.file_url,
        arbitrary_callback_data=True, rate_limiter=limiter,
    ) as bot:
        client = type("Client", (), {"events": feed.events_after})()
        relay = NotificationRelay(client, Renderer(bot, session), Cursor(state / f"cursor-{limited}-{len(user_ids)}.json"))  # type: ignore[arg-type]
        started = time.perf_counter()
        delivered = await relay.deliver_pending()
        elapsed = time.perf_counter() - started
    assert delivered == len(user_ids)
    return elapsed


def main() -> int:
    server = BotApiServerThread(token="515151:BENCH-TOKEN").start()
    try:
        with BotApiDriver(server.url) as driver, tempfile.TemporaryDirectory() as tmp:
            user_ids = list(range(900_001, 900_001 + CITIZENS))
            for user_id in user_ids:
                driver.user(user_id, first_name="Bench").send("ciao")
            free = asyncio.run(burst(server, user_ids, limited=False, state=Path(tmp)))
            before = len(driver.calls("sendMessage"))
            limited = asyncio.run(burst(server, user_ids, limited=True, state=Path(tmp)))
            sent_at = sorted(float(c["time"]) for c in driver.calls("sendMessage")[before:])
            driver.throttle(1, retry_after=1, methods=["sendMessage"])
            throttled = asyncio.run(burst(server, user_ids[:10], limited=True, state=Path(tmp)))
    finally:
        server.stop()
    print(f"| {CITIZENS} reminders | seconds | messages/s |")
    print("|---|---|---|")
    print(f"| without a rate limiter | {free:.2f} | {CITIZENS / free:.1f} |")
    print(f"| with AIORateLimiter (the bot's) | {limited:.2f} | {CITIZENS / limited:.1f} |")
    print(f"| 10 reminders, first answered 429 retry_after=1 | {throttled:.2f} | — |")
    busiest = max(sum(1 for t in sent_at if start <= t < start + 1) for start in sent_at)
    print(f"\nWith the limiter the busiest second carried {busiest} messages.")
    if busiest > TELEGRAM_LIMIT_PER_SECOND + 1:
        print(f"Over Telegram's limit: {busiest} messages in one second", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
