"""Background jobs of the back office: one runner repeating a job while the app runs.

Every replica runs the same loops. With a sessionmaker, each run first takes the job's lease
(a row of `job_leases`, one conditional write), so across replicas a job runs once per
interval: the holder keeps it while it lives, another replica takes it once it has lapsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice.db.models import JobLease
from sportello.clock import PROCESS_CLOCK

log = logging.getLogger(__name__)


def new_holder() -> str:
    """Who takes a lease: host, process, and a random part (a restart is someone new)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


async def take_lease(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    ttl: timedelta,
    holder: str,
    now: datetime | None = None,
) -> bool:
    """Take (or keep) the lease of job `name` for `ttl`; False when another process holds it."""
    at = now or PROCESS_CLOCK.now()
    try:
        async with sessions.begin() as session:
            taken = await session.execute(
                update(JobLease)
                .where(
                    JobLease.name == name,
                    or_(JobLease.holder == holder, JobLease.expires_at <= at),
                )
                .values(holder=holder, expires_at=at + ttl, runs=JobLease.runs + 1)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return True
            if await session.get(JobLease, name) is not None:
                return False
            session.add(JobLease(name=name, holder=holder, expires_at=at + ttl, runs=1))
        return True
    except IntegrityError:
        # Another replica wrote the first lease of this job at the same moment.
        return False


@contextlib.asynccontextmanager
async def run_periodically(
    name: str,
    job: Callable[[], Awaitable[None]],
    interval: float,
    first_delay: float = 0.0,
    leases: async_sessionmaker[AsyncSession] | None = None,
) -> AsyncIterator[None]:
    """Run `job` every `interval` seconds, the first time after `first_delay`, until the
    block ends; with an interval of zero or less, never. With `leases`, a run happens only
    in the process that holds the job's lease.
    """
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(
        _repeat(name, job, interval, first_delay, leases, new_holder()), name=name
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _repeat(
    name: str,
    job: Callable[[], Awaitable[None]],
    interval: float,
    first_delay: float,
    leases: async_sessionmaker[AsyncSession] | None,
    holder: str,
) -> None:
    if first_delay > 0:
        await asyncio.sleep(min(first_delay, interval))
    while True:
        try:
            if leases is None or await take_lease(leases, name, timedelta(seconds=interval), holder):
                await job()
        except Exception as exc:  # noqa: BLE001 - a failed run must not end the job
            # The next run tries again; the type is enough and leaks no personal data.
            log.error("%s failed: %s", name, type(exc).__name__)
        await asyncio.sleep(interval)
