"""Telegram's pace: never more than N in any window where Telegram receives them, and a short
burst waits for nothing. Small windows (5 in 0.2 s) keep it quick; the bound does not depend
on the machine's speed, only on the order of events."""

from __future__ import annotations

import asyncio
import bisect
import random

from telegram.ext import AIORateLimiter

from bot.app import rate_limiter
from bot.pace import SlidingWindow
from sportello.settings import Settings


def most_in_any_window(times: list[float], period: float) -> int:
    ordered = sorted(times)
    return max(bisect.bisect_left(ordered, t + period) - i for i, t in enumerate(ordered))


async def send_all(window: SlidingWindow, count: int, delays: list[float]) -> tuple[list[float], list[float]]:
    """Each request enters, reaches 'Telegram' after its network delay, comes back; stamps both."""
    loop = asyncio.get_running_loop()
    entered: list[float] = []
    arrived: list[float] = []

    async def send(number: int) -> None:
        async with window:
            entered.append(loop.time())
            await asyncio.sleep(delays[number] * 0.5)
            arrived.append(loop.time())  # Telegram's stamp
            await asyncio.sleep(delays[number] * 0.5)

    await asyncio.gather(*(send(n) for n in range(count)))
    return entered, arrived


async def test_no_window_at_telegrams_end_holds_more_whatever_the_network_does() -> None:
    rng = random.Random(7)
    delays = [rng.choice([0.0, 0.0, 0.01, 0.08, 0.15]) for _ in range(40)]  # bunched, late, prompt
    window = SlidingWindow(5, 0.2)
    entered, arrived = await send_all(window, 40, delays)
    assert len(arrived) == 40
    assert most_in_any_window(arrived, 0.2) <= 5


async def test_a_short_burst_goes_in_at_once_and_the_next_waits_its_turn() -> None:
    window = SlidingWindow(5, 0.2)
    release = asyncio.Event()
    order: list[int] = []

    async def send(number: int) -> None:
        async with window:
            order.append(number)
            await release.wait()  # still on its way to Telegram

    tasks = [asyncio.create_task(send(n)) for n in range(7)]
    for _ in range(50):
        await asyncio.sleep(0)
    assert order == [0, 1, 2, 3, 4], "five go in together; the sixth waits while five are on their way"
    release.set()
    await asyncio.gather(*tasks)
    assert order == list(range(7)), "then first come, first served"


def test_the_bot_uses_the_window_inside_ptbs_limiter() -> None:
    limiter = rate_limiter(Settings(_env_file=None))
    assert isinstance(limiter, AIORateLimiter)
    assert isinstance(limiter._base_limiter, SlidingWindow)  # what PTB enters around each send
    assert limiter._base_limiter.rate == 30 and limiter._base_limiter.period >= 1.0


def test_a_replica_keeps_its_share_of_telegrams_thirty() -> None:
    limiter = rate_limiter(Settings(_env_file=None, telegram_messages_per_second=15))
    assert isinstance(limiter._base_limiter, SlidingWindow) and limiter._base_limiter.rate == 15
