"""Throughput of the production topology (HAProxy in front of REPLICAS of each process, on
PostgreSQL and Redis, Telegram by webhook) with one replica of each and with two.

Many chats write at once, each waiting for its answer before the next message, for a fixed
time; the figure is turns answered per second. On two cores a second Rasa has little CPU to
gain, and each bot replica keeps Telegram's 30 messages a second on its own: the numbers say
what a second replica buys on this machine, not on a bigger one.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.bench.harness import Control, sent_to
from tests.production import start_production

TEXTS = ["ciao", "quali sono gli orari dell'anagrafe?", "grazie"]


async def _answered(control: Control, user: int, after: int, timeout: float) -> int:
    """Wait for the bot's first message to `user` after call `after`; the newest call seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = await control.calls("sendMessage", after)
        if any(sent_to(c) == user and c.get("ok") for c in calls):
            await asyncio.sleep(0.2)  # the turn's other messages
            return max(int(c["seq"]) for c in calls)
        await asyncio.sleep(0.05)
    raise TimeoutError(f"chat {user} got no answer in {timeout:.0f} s")


async def _load(control: Control, chats: int, seconds: float) -> dict[str, Any]:
    users = list(range(9_000_001, 9_000_001 + chats))
    await control.add_users(users, started=True)
    turns = 0
    stop = time.monotonic() + seconds

    async def citizen(user: int) -> None:
        nonlocal turns
        n = 0
        while time.monotonic() < stop:
            after = await control.last_seq()
            await control.send(user, TEXTS[n % len(TEXTS)])
            await _answered(control, user, after, timeout=120)
            turns += 1
            n += 1

    started = time.monotonic()
    await asyncio.gather(*(citizen(user) for user in users))
    elapsed = time.monotonic() - started
    return {"chats": chats, "turns": turns, "seconds": round(elapsed, 1), "turns_per_s": round(turns / elapsed, 2)}


async def _measure(url: str, chats: int, seconds: float) -> dict[str, Any]:
    class Telegram:
        def __init__(self, url: str) -> None:
            self.url = url

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        control = Control(session, Telegram(url))  # type: ignore[arg-type]
        return await _load(control, chats, seconds)


def run_replicas(tmp: Path, counts: list[int], *, chats: int, seconds: float) -> dict[str, Any]:
    """One topology per count, started, loaded for `seconds`, stopped; and the speed-up."""
    results: dict[str, Any] = {}
    for replicas in counts:
        began = time.monotonic()
        where = tmp / f"replicas-{replicas}"
        where.mkdir(parents=True, exist_ok=True)
        with start_production(where, replicas=replicas) as production:
            start_s = round(time.monotonic() - began, 1)
            figures = asyncio.run(_measure(production.telegram.url, chats, seconds))
        results[str(replicas)] = {**figures, "start_s": start_s}
        print(f"{replicas} {'replica' if replicas == 1 else 'repliche'}: {figures['turns_per_s']} turni/s ({figures['turns']} turni)", flush=True)
    if "1" in results and "2" in results and results["1"]["turns_per_s"]:
        results["speedup_2_vs_1"] = round(results["2"]["turns_per_s"] / results["1"]["turns_per_s"], 2)
    return results
