"""The outbox: every notice owed to a chat is claimed with a lease, in order, once; failures back off or park."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from backoffice.app import AccessLogger, create_app
from backoffice.appkeys import CLOCK
from backoffice.db import create_sessionmaker, models
from backoffice.db.seed import DEMO_CITIZENS
from backoffice.events.repository import EventRepository
from sportello.clock import Clock
from sportello.settings import Settings
from tests.backoffice_http import AUTH, console_login, link

Client = TestClient[Any, Any]
GIULIA = DEMO_CITIZENS[1].fiscal_code


@pytest_asyncio.fixture
async def clock_and_http(
    database_url: str, seeded_engine: AsyncEngine, make_settings: Callable[..., Settings]
) -> AsyncIterator[tuple[Clock, Client]]:
    clock = Clock(datetime.now(UTC) + timedelta(seconds=1))  # deliveries are written with the wall clock
    app = create_app(make_settings(database_url))
    app[CLOCK] = clock
    server = TestServer(app, host="127.0.0.1", access_log_class=AccessLogger)
    async with TestClient(server) as client:
        yield clock, client


async def _event(engine: AsyncEngine, *, citizen_id: int | None = None, chat: str | None = None, n: int = 0) -> int:
    async with create_sessionmaker(engine).begin() as session:
        event = await EventRepository(session).append(
            "practice_status_changed", {"sequence": n}, citizen_id=citizen_id, channel_user=chat
        )
    return event.id


async def _citizen_id(engine: AsyncEngine, fiscal_code: str) -> int:
    async with create_sessionmaker(engine)() as session:
        found = await session.scalar(select(models.Citizen.id).where(models.Citizen.fiscal_code == fiscal_code))
    assert found is not None
    return found


async def _claim(http: Client, **body: Any) -> list[dict[str, Any]]:
    response = await http.post("/v1/deliveries/claim", json={"channel": "telegram", **body}, headers=AUTH)
    assert response.status == 200, await response.text()
    return list((await response.json())["deliveries"])


async def test_each_linked_chat_gets_the_notice_once_and_a_sent_one_never_comes_back(
    clock_and_http: tuple[Clock, Client], seeded_engine: AsyncEngine
) -> None:
    clock, http = clock_and_http
    await link(http, 7101, GIULIA)
    await link(http, 7102, GIULIA)
    event_id = await _event(seeded_engine, citizen_id=await _citizen_id(seeded_engine, GIULIA))

    claimed = await _claim(http, lease_seconds=30)
    assert sorted(d["recipient"] for d in claimed) == ["telegram:7101", "telegram:7102"]
    assert {d["event"]["id"] for d in claimed} == {event_id}
    assert await _claim(http) == [], "leased deliveries are not handed to a second bot"

    for delivery in claimed:
        assert (await http.post(f"/v1/deliveries/{delivery['id']}/sent", headers=AUTH)).status == 200
    clock.advance(timedelta(minutes=10))
    assert await _claim(http) == []
    counts = (await (await http.get("/v1/deliveries", headers=AUTH)).json())["counts"]
    assert counts == {"pending": 0, "sent": 2, "dead": 0}


async def test_a_chat_linked_after_the_event_is_not_told_the_past(
    clock_and_http: tuple[Clock, Client], seeded_engine: AsyncEngine
) -> None:
    _, http = clock_and_http
    await _event(seeded_engine, citizen_id=await _citizen_id(seeded_engine, GIULIA))
    await link(http, 7201, GIULIA)
    assert await _claim(http) == []


async def test_one_chat_is_told_in_order_one_notice_at_a_time(
    clock_and_http: tuple[Clock, Client], seeded_engine: AsyncEngine
) -> None:
    _, http = clock_and_http
    first = await _event(seeded_engine, chat="telegram:7301", n=1)
    second = await _event(seeded_engine, chat="telegram:7301", n=2)
    other = await _event(seeded_engine, chat="telegram:7302", n=3)

    batch = await _claim(http)
    assert sorted(d["event"]["id"] for d in batch) == [first, other]
    assert await _claim(http) == [], "the second notice waits until the first is told"
    held = next(d for d in batch if d["event"]["id"] == first)
    await http.post(f"/v1/deliveries/{held['id']}/sent", headers=AUTH)
    assert [d["event"]["id"] for d in await _claim(http)] == [second]


async def test_a_lease_that_runs_out_is_claimed_again(
    clock_and_http: tuple[Clock, Client], seeded_engine: AsyncEngine
) -> None:
    clock, http = clock_and_http
    await _event(seeded_engine, chat="telegram:7401")
    [held] = await _claim(http, lease_seconds=30)
    clock.advance(timedelta(seconds=31))  # the bot that held it died without a word
    [again] = await _claim(http, lease_seconds=30)
    assert again["id"] == held["id"] and again["attempts"] == 2 and again["lease"] != held["lease"]
    stale = await http.post(
        f"/v1/deliveries/{held['id']}/failed", json={"lease": held["lease"], "error": "TimedOut"}, headers=AUTH
    )
    assert stale.status == 404, "the dead bot's lease no longer speaks for the delivery"


async def test_failures_back_off_and_permanent_ones_are_parked_for_the_office(
    clock_and_http: tuple[Clock, Client], seeded_engine: AsyncEngine
) -> None:
    clock, http = clock_and_http
    await _event(seeded_engine, chat="telegram:7501")
    await _event(seeded_engine, chat="telegram:7502")
    batch = {d["recipient"]: d for d in await _claim(http)}

    flaky, gone = batch["telegram:7501"], batch["telegram:7502"]
    response = await http.post(
        f"/v1/deliveries/{flaky['id']}/failed", json={"lease": flaky["lease"], "error": "RetryAfter", "retry_after": 20},
        headers=AUTH,
    )
    assert (await response.json())["status"] == "pending"
    response = await http.post(
        f"/v1/deliveries/{gone['id']}/failed", json={"lease": gone["lease"], "error": "BadRequest", "permanent": True},
        headers=AUTH,
    )
    assert (await response.json())["status"] == "dead"

    clock.advance(timedelta(seconds=10))
    assert await _claim(http) == [], "Telegram asked for 20 seconds"
    clock.advance(timedelta(seconds=11))
    assert [d["recipient"] for d in await _claim(http)] == ["telegram:7501"]

    overview = await (await http.get("/v1/deliveries", headers=AUTH)).json()
    assert [(d["recipient"], d["last_error"]) for d in overview["dead"]] == [("telegram:7502", "BadRequest")]
    assert overview["counts"]["dead"] == 1


async def test_one_that_keeps_failing_is_parked_after_its_last_try(
    clock_and_http: tuple[Clock, Client], seeded_engine: AsyncEngine
) -> None:
    clock, http = clock_and_http
    await _event(seeded_engine, chat="telegram:7601")
    statuses = []
    for _ in range(8):
        [held] = await _claim(http)
        response = await http.post(
            f"/v1/deliveries/{held['id']}/failed", json={"lease": held["lease"], "error": "NetworkError"}, headers=AUTH
        )
        statuses.append((await response.json())["status"])
        clock.advance(timedelta(minutes=6))
    assert statuses == ["pending"] * 7 + ["dead"]
    assert await _claim(http) == []


async def test_bots_claiming_at_once_never_share_a_delivery(
    clock_and_http: tuple[Clock, Client], seeded_engine: AsyncEngine
) -> None:
    clock, http = clock_and_http
    for n in range(40):
        await _event(seeded_engine, chat=f"telegram:{7700 + n}")
    # Forty events may take more than the fixture's second on a busy machine: all are due now.
    clock.freeze(datetime.now(UTC) + timedelta(seconds=1))
    batches = list(await asyncio.gather(*(_claim(http, limit=10) for _ in range(6))))
    while batch := await _claim(http, limit=10):  # what a claimer lost to another is still there
        batches.append(batch)
    ids = [d["id"] for batch in batches for d in batch]
    assert len(ids) == len(set(ids)) == 40


async def test_the_outbox_needs_the_service_key(clock_and_http: tuple[Clock, Client]) -> None:
    _, http = clock_and_http
    refused = await http.post("/v1/deliveries/claim", json={"channel": "telegram"})
    assert refused.status == 401
    bad = await http.post("/v1/deliveries/claim", json={"channel": "telegram", "limit": 0}, headers=AUTH)
    assert bad.status == 400


__all__ = ["aiohttp"]


async def test_the_console_shows_the_undelivered_and_puts_one_back_in_the_queue(
    clock_and_http: tuple[Clock, Client], seeded_engine: AsyncEngine
) -> None:
    _, http = clock_and_http
    csrf = await console_login(http, "operatore")
    await _event(seeded_engine, chat="telegram:7601")
    [gone] = await _claim(http)
    await http.post(
        f"/v1/deliveries/{gone['id']}/failed", json={"lease": gone["lease"], "error": "Forbidden", "permanent": True},
        headers=AUTH,
    )

    page = await (await http.get("/staff/notifiche")).text()
    assert "Non consegnate: 1" in page
    assert "Cambio di stato di una pratica" in page and "Forbidden" in page
    assert "telegram:7601" not in page, "the office sees what failed, not whose chat"
    assert f'action="/staff/notifiche/{gone["id"]}/riprova"' in page

    forged = await http.post(f"/staff/notifiche/{gone['id']}/riprova", data={"csrf": "forged"}, allow_redirects=False)
    assert forged.status == 403
    retried = await http.post(f"/staff/notifiche/{gone['id']}/riprova", data={"csrf": csrf}, allow_redirects=False)
    assert retried.status == 303 and "rimessa+in+coda" in retried.headers["Location"]
    again = await _claim(http)
    assert [(d["id"], d["attempts"]) for d in again] == [(gone["id"], 1)], "counted afresh from the retry"
    page = await (await http.get("/staff/notifiche")).text()
    assert "Nessuna notifica da controllare." in page
