"""Telegram's pace: at most 30 messages in any one second, a short burst going at once.

PTB's AIORateLimiter spaces messages evenly (a leaky bucket of one every 1/30 s), so the
second message of a turn always waits 33 ms and a burst of 30 takes a whole second — and
still, requests bunched by the network can reach Telegram 31 or more in a second. A sliding
window that holds each slot until a second after its request came back keeps the promise at
Telegram's end, and lets a turn's messages and the first 30 of a burst go out without waiting. Group limits (20 a minute)
and the wait after a 429 stay PTB's.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from types import TracebackType

from telegram.ext import AIORateLimiter

MESSAGES = 30
WINDOW_SECONDS = 1.0


class SlidingWindow:
    """`async with window:` around each request: never more than `rate` reach Telegram in any
    `period`, measured where Telegram receives them.

    A request reaches Telegram some time between entering and leaving this block, so a slot is
    held from entering until `period` after leaving: a new request enters only when fewer than
    `rate` are on their way or left less than `period` ago. However late or bunched the network
    delivers them, no window of `period` at Telegram's end holds more than `rate`.
    """

    def __init__(
        self,
        rate: int = MESSAGES,
        period: float = WINDOW_SECONDS,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.rate, self.period = rate, period
        self._clock = clock
        self._left: deque[float] = deque()  # when the recent requests came back
        self._on_the_way = 0
        self._turn = asyncio.Lock()  # first come, first served
        self._changed = asyncio.Condition()

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    async def __aenter__(self) -> None:
        async with self._turn, self._changed:
            while True:
                now = self._now()
                while self._left and now - self._left[0] >= self.period:
                    self._left.popleft()
                if self._on_the_way + len(self._left) < self.rate:
                    self._on_the_way += 1
                    return
                # Full: wait for one to come back, or for the oldest to leave the window.
                wake = self._left[0] + self.period - now if self._left else None
                try:
                    await asyncio.wait_for(self._changed.wait(), wake)
                except TimeoutError:
                    pass

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        async with self._changed:
            self._on_the_way -= 1
            self._left.append(self._now())
            self._changed.notify_all()


class TelegramPace(AIORateLimiter):
    """PTB's rate limiter with the sliding window in place of its overall leaky bucket."""

    def __init__(self, max_retries: int = 3, rate: int = MESSAGES) -> None:
        super().__init__(overall_max_rate=rate, overall_time_period=1, max_retries=max_retries)
        # PTB enters this object with `async with` around every send to a chat.
        self._base_limiter = SlidingWindow(rate)  # type: ignore[assignment]
