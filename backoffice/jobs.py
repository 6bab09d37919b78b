"""Background jobs of the back office: one runner repeating a job while the app runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def run_periodically(
    name: str,
    job: Callable[[], Awaitable[None]],
    interval: float,
    first_delay: float = 0.0,
) -> AsyncIterator[None]:
    """Run `job` every `interval` seconds, the first time after `first_delay`, until the
    block ends; with an interval of zero or less, never.
    """
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(_repeat(name, job, interval, first_delay), name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _repeat(
    name: str, job: Callable[[], Awaitable[None]], interval: float, first_delay: float
) -> None:
    if first_delay > 0:
        await asyncio.sleep(min(first_delay, interval))
    while True:
        try:
            await job()
        except Exception as exc:  # noqa: BLE001 - a failed run must not end the job
            # The next run tries again; the type is enough and leaks no personal data.
            log.error("%s failed: %s", name, type(exc).__name__)
        await asyncio.sleep(interval)
