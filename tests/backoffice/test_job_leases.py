"""Periodic jobs run once across back-office replicas: each run takes the job's lease first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from actions.when import rome_today
from backoffice.app import create_app
from backoffice.db import create_sessionmaker, migrate, models
from backoffice.jobs import run_periodically, take_lease
from backoffice.taxes import routes as tax_routes
from sportello.settings import Settings
from tests.backoffice.test_backoffice_payments import GIULIA, _only_due, events_of, position
from tests.backoffice_http import link

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def test_one_holder_at_a_time_until_its_lease_lapses(engine: AsyncEngine) -> None:
    await migrate(engine)
    sessions = create_sessionmaker(engine)

    assert await take_lease(sessions, "reminders", HOUR, "replica-a", now=T0)
    assert not await take_lease(sessions, "reminders", HOUR, "replica-b", now=T0 + timedelta(minutes=5))
    # The holder keeps it; another job's lease is apart.
    assert await take_lease(sessions, "reminders", HOUR, "replica-a", now=T0 + timedelta(minutes=59))
    assert await take_lease(sessions, "housekeeping", HOUR, "replica-b", now=T0)
    # replica-a stopped renewing (it died): once its lease lapses, replica-b runs the job.
    assert not await take_lease(sessions, "reminders", HOUR, "replica-b", now=T0 + timedelta(minutes=100))
    assert await take_lease(sessions, "reminders", HOUR, "replica-b", now=T0 + timedelta(minutes=120))

    async with sessions() as session:
        lease = await session.get(models.JobLease, "reminders")
    assert lease is not None
    assert (lease.holder, lease.runs) == ("replica-b", 3)


async def test_two_loops_of_the_same_job_run_it_once(engine: AsyncEngine) -> None:
    await migrate(engine)
    sessions = create_sessionmaker(engine)
    runs: list[str] = []

    def job(replica: str) -> Callable[[], asyncio.Future[None]]:
        async def run() -> None:
            runs.append(replica)

        return run  # type: ignore[return-value]

    async with (
        run_periodically("digest", job("a"), 3600, leases=sessions),
        run_periodically("digest", job("b"), 3600, leases=sessions),
    ):
        for _ in range(50):
            if runs:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
    assert len(runs) == 1


async def test_two_back_office_replicas_remind_once(
    database_url: str,
    seeded_engine: AsyncEngine,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tax_routes, "REMINDER_FIRST_RUN_DELAY_SECONDS", 0.3)
    canteen = await position(seeded_engine, GIULIA, tax_type="MENSA")
    await _only_due(seeded_engine, GIULIA, canteen, rome_today() + timedelta(days=1))
    settings = make_settings(database_url)
    replicas = [TestServer(create_app(settings), host="127.0.0.1") for _ in range(2)]
    for replica in replicas:
        await replica.start_server()
    try:
        async with TestClient(replicas[0]) as first:
            await link(first, 22, GIULIA)
            for _ in range(100):
                if await events_of(first, "payment_reminder"):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            reminders = await events_of(first, "payment_reminder")
    finally:
        for replica in replicas:
            await replica.close()
    assert [event["payload"]["position_id"] for event in reminders] == [canteen]
    async with create_sessionmaker(seeded_engine)() as session:
        lease = (
            await session.scalars(
                select(models.JobLease).where(models.JobLease.name == "payment reminders")
            )
        ).one()
    # One replica ran the job; the other found the lease taken and did nothing.
    assert lease.runs == 1
