"""Housekeeping: what the back office keeps only for a while, deleted by an hourly job.

The answers kept for Idempotency-Key retries, after IDEMPOTENCY_RETENTION (24 h), and the
files a chat sent that never became part of a pratica, after UNATTACHED_UPLOAD_LIFETIME (a day).
`POST /v1/jobs/housekeeping` runs it now (cron, tests); HOUSEKEEPING_INTERVAL_SECONDS (3600)
is how often the back office runs it on its own, 0 never.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial

from aiohttp import web

from backoffice.appkeys import CLOCK, SESSIONMAKER, SETTINGS
from backoffice.db.uow import UnitOfWork
from backoffice.http.idempotency import delete_expired_idempotency_records
from backoffice.http.request import now, unit_of_work
from backoffice.jobs import run_periodically
from backoffice.practices.repository import delete_unattached_uploads

log = logging.getLogger(__name__)

housekeeping_routes = web.RouteTableDef()

# As the reminders: a restarting process settles first.
FIRST_RUN_DELAY_SECONDS = 60.0


async def housekeep(uow: UnitOfWork, now: datetime) -> dict[str, int]:
    """Delete what has outlived its time, in one unit of work; how many of each."""
    async with uow:
        deleted = {
            "idempotency_keys": await delete_expired_idempotency_records(uow.session, now),
            "uploads": await delete_unattached_uploads(uow.session, now),
        }
        await uow.commit()
    return deleted


@housekeeping_routes.post("/v1/jobs/housekeeping")
async def run_housekeeping(request: web.Request) -> web.Response:
    """Run the housekeeping now; answer how many of each thing were deleted."""
    deleted = await housekeep(unit_of_work(request), now(request))
    return web.json_response({"deleted": deleted})


async def _run(app: web.Application) -> None:
    deleted = await housekeep(UnitOfWork(app[SESSIONMAKER]), app[CLOCK]())
    if any(deleted.values()):
        # Counts only: what was deleted says nothing about anyone.
        log.info("housekeeping deleted %s", deleted)


async def housekeeping_job(app: web.Application) -> AsyncIterator[None]:
    """Run the housekeeping every HOUSEKEEPING_INTERVAL_SECONDS while the app runs."""
    async with run_periodically(
        "housekeeping",
        partial(_run, app),
        app[SETTINGS].housekeeping_interval_seconds,
        first_delay=FIRST_RUN_DELAY_SECONDS,
        leases=app[SESSIONMAKER],
    ):
        yield
