"""Jobs the running bot repeats for as long as it runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


async def every(seconds: float, job: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `job` every `seconds`, the first time `seconds` from now; a failure is logged (its type
    only) and the next run comes all the same."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception as error:  # noqa: BLE001 - a job must outlive one failure
            logger.warning("%s failed: %s", what, type(error).__name__)
