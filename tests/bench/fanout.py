"""Fan-out: one payment reminder each to many citizens through the real delivery path.

The back office's outbox gets one event and one delivery per citizen (written straight into
its database, as the reminder job would in one go); the running bot claims them with leases,
sends them under its rate limiter to the local Telegram and marks them sent. Measured: the time
from the outbox being full to the last message, against the N/30 s Telegram allows; messages
in the busiest second (any one-second window); lost and doubled chats.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import aiohttp
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from backoffice.db import models
from tests.bench.harness import Control, sent_to

FIRST_USER = 50_000_000
TELEGRAM_RATE = 30


async def fill_outbox(database_url: str, users: list[int]) -> None:
    """Citizens with a linked chat, and one due reminder each waiting in the outbox."""
    now = datetime.now(UTC)
    first_citizen = 10_000_000
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            citizens = [
                {"id": first_citizen + i, "fiscal_code": f"BNC{i:013d}", "given_name": "Cittadino",
                 "family_name": f"Bench {i}", "tax_reminders": True, "created_at": now}
                for i in range(len(users))
            ]
            await connection.execute(insert(models.Citizen.__table__), citizens)
            await connection.execute(insert(models.ChannelLink.__table__), [
                {"citizen_id": first_citizen + i, "channel": "telegram", "channel_user_id": str(user),
                 "linked_at": now}
                for i, user in enumerate(users)
            ])
            await connection.execute(insert(models.Event.__table__), [
                {"id": first_citizen + i, "type": "payment_reminder", "citizen_id": first_citizen + i,
                 "payload": {"position_id": first_citizen + i, "description": "TARI 2026, 2ª rata",
                             "amount_cents": 14350, "due_date": "2026-12-16"},
                 "created_at": now}
                for i in range(len(users))
            ])
            await connection.execute(insert(models.Delivery.__table__), [
                {"event_id": first_citizen + i, "recipient": f"telegram:{user}", "status": "pending",
                 "attempts": 0, "available_at": now, "created_at": now}
                for i, user in enumerate(users)
            ])
    finally:
        await engine.dispose()


async def outbox_counts(session: aiohttp.ClientSession, backoffice_url: str, api_key: str) -> dict[str, int]:
    async with session.get(f"{backoffice_url}/v1/deliveries", headers={"X-API-Key": api_key},
                           params={"limit": "1"}) as response:
        return dict((await response.json())["counts"])


def busiest_second(times: list[float]) -> int:
    """The most messages inside any one-second window."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


async def run_fanout(control: Control, session: aiohttp.ClientSession, env: dict[str, str],
                     count: int, timeout: float) -> dict[str, Any]:
    users = list(range(FIRST_USER, FIRST_USER + count))
    # Linked citizens have written to the bot before: it may write to them first.
    await control.add_users(users, parallel=100, started=True)
    after = await control.last_seq()
    before = await outbox_counts(session, env["BACKOFFICE_URL"], env["BACKOFFICE_API_KEY"])
    await fill_outbox(env["DATABASE_URL"], users)
    full = time.time()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = await outbox_counts(session, env["BACKOFFICE_URL"], env["BACKOFFICE_API_KEY"])
        done = counts["sent"] + counts["dead"] - before["sent"] - before["dead"]
        if done >= count:
            break
        await asyncio.sleep(1.0)
    wanted = set(users)
    calls = [c for c in await control.calls("sendMessage", after) if c.get("ok") and sent_to(c) in wanted]
    per_chat = Counter(sent_to(c) for c in calls)
    times = sorted(float(c["time"]) for c in calls)
    elapsed = (times[-1] - full) if times else float("inf")
    allowed = count / TELEGRAM_RATE
    start = times[0] if times else full
    per_second = Counter(int(t - start) for t in times)
    return {
        "notifications": count,
        "delivered": len(per_chat),
        "lost": count - len(per_chat),
        "doubled": sum(1 for n in per_chat.values() if n > 1),
        "dead": counts["dead"] - before["dead"],
        "seconds": round(elapsed, 1),
        "telegram_allows_s": round(allowed, 1),
        "fanout_ratio": round(elapsed / allowed, 3),
        "busiest_second": busiest_second(times),
        "per_second": [per_second.get(second, 0) for second in range(int(times[-1] - start) + 1 if times else 0)],
    }
