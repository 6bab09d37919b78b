"""Serve different chats concurrently and the updates of one chat strictly in order.

Fair to every chat: an update takes one of the shared processing slots only when its turn in
its own chat comes, so a chat that floods waits behind itself, not in front of everybody. Each
chat's waiting line is capped: beyond the cap its updates are dropped and the chat is told
once per burst (a burst ends when the chat has nothing left to handle).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.health import BUSIEST_CHAT, DROPPED, QUEUED

logger = logging.getLogger(__name__)

# PTB takes its own semaphore before do_process_update, that is while an update still waits
# for its chat's turn: it is kept out of the way, and the real slots are handed out below.
_UNBOUNDED = 1_000_000


def chat_key(update: object) -> int | None:
    """The chat an update belongs to, so that its messages queue behind each other."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


async def _tell_nobody(chat_id: int) -> None:
    """Until the application says how, a dropped update is dropped in silence."""


async def _nothing_after() -> None:
    """Until the application says what, nothing follows an update."""


@dataclass
class _ChatLine:
    """One chat's updates: the one being handled and those waiting behind it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    admitted: int = 0
    told: bool = False


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Run updates concurrently, but never two of the same chat at once, and in arrival order."""

    def __init__(
        self,
        max_concurrent_updates: int = 64,
        queue_limit: int = 20,
        uncapped: Collection[int] = (),
        tell: Callable[[int], Awaitable[None]] = _tell_nobody,
    ) -> None:
        super().__init__(_UNBOUNDED)
        if max_concurrent_updates < 1 or queue_limit < 1:
            raise ValueError("max_concurrent_updates and queue_limit must be positive")
        self.slots = max_concurrent_updates
        self.queue_limit = queue_limit
        self.uncapped = frozenset(uncapped)
        # Says to a chat that its updates are being dropped; set by the application.
        self.tell = tell
        # Runs after each update, in its chat's turn (the application saves its state there).
        self.after: Callable[[], Awaitable[None]] = _nothing_after
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._lines: dict[int, _ChatLine] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            async with self._slots:
                await coroutine
                await self._after()
            return
        line = self._lines.setdefault(key, _ChatLine())
        # One being handled and queue_limit waiting behind it: the next one is one too many.
        if line.admitted > self.queue_limit and key not in self.uncapped:
            await self._drop(key, line, coroutine)
            return
        line.admitted += 1
        QUEUED.inc()
        BUSIEST_CHAT.set(max(chat.admitted for chat in self._lines.values()))
        try:
            # asyncio.Lock wakes waiters first-in first-out, and PTB starts one task per
            # update in arrival order, so the chat's messages are handled in that order; a
            # slot is taken only once the lock is held, when the chat's turn has come.
            async with line.lock, self._slots:
                await coroutine
                await self._after()
        finally:
            line.admitted -= 1
            QUEUED.dec()
            if line.admitted == 0:
                # Forget idle chats so memory stays flat over a long run; a new burst is told anew.
                del self._lines[key]

    async def _after(self) -> None:
        try:
            await self.after()
        except Exception as error:  # noqa: BLE001 - the next update must still come
            logger.warning("State not saved after an update: %s", type(error).__name__)

    async def _drop(self, key: int, line: _ChatLine, coroutine: Awaitable[Any]) -> None:
        DROPPED.inc()
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never run: no "never awaited" warning
        if line.told:
            return
        line.told = True
        try:
            await self.tell(key)
        except Exception as error:  # noqa: BLE001 - a failed warning must not stop the chat
            logger.info("Chat not told it writes too fast: %s", type(error).__name__)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""
