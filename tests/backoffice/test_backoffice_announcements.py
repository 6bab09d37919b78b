"""Avvisi on SQLite and PostgreSQL: subscriptions by topic and zone, publishing through the
outbox (once per Idempotency-Key, alerts first), stats, the evening waste reminder once a day."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from backoffice.app import AccessLogger, create_app
from backoffice.appkeys import CLOCK
from backoffice.db import create_sessionmaker, models
from sportello.clock import Clock
from sportello.settings import Settings
from tests.backoffice_http import AUTH, chat

Client = TestClient[Any, Any]
STAFF = {**AUTH, "X-Staff-User": "protezione.civile"}
# Friday 4 December 2026, 19:05 in Rome: tomorrow's collection is announced now.
EVENING = datetime(2026, 12, 4, 18, 5, tzinfo=UTC)


@pytest_asyncio.fixture
async def clock_and_http(
    database_url: str, seeded_engine: AsyncEngine, make_settings: Callable[..., Settings]
) -> AsyncIterator[tuple[Clock, Client]]:
    clock = Clock(datetime.now(UTC) + timedelta(seconds=1))
    app = create_app(make_settings(database_url))
    app[CLOCK] = clock
    async with TestClient(TestServer(app, host="127.0.0.1", access_log_class=AccessLogger)) as client:
        yield clock, client


async def _put(http: Client, user: int, **body: Any) -> dict[str, Any]:
    response = await http.put("/v1/me/announcements", json=body, headers=chat(user))
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def _publish(http: Client, key: str, **body: Any) -> tuple[int, dict[str, Any]]:
    response = await http.post("/v1/announcements", json=body, headers={**STAFF, "Idempotency-Key": key})
    return response.status, dict(await response.json())


async def _claim(http: Client, limit: int = 200) -> list[dict[str, Any]]:
    response = await http.post("/v1/deliveries/claim", json={"limit": limit}, headers=AUTH)
    assert response.status == 200, await response.text()
    return list((await response.json())["deliveries"])


async def test_topics_and_zones_are_data_and_a_location_finds_its_zone(
    clock_and_http: tuple[Clock, Client],
) -> None:
    _, http = clock_and_http
    found = await (await http.get("/v1/announcement-topics", headers=AUTH)).json()
    assert [t["code"] for t in found["topics"]] == ["allerte", "rifiuti", "uffici", "tributi", "eventi"]
    assert found["topics"][0]["priority"] > found["topics"][1]["priority"]
    assert {"code": "cerenova", "name": "Cerenova"} in found["zones"]
    assert len(found["zones"]) == 8

    here = await http.get("/v1/announcement-zones/locate?lat=41.985&lon=12.045", headers=AUTH)
    assert (here.status, await here.json()) == (200, {"code": "cerenova", "name": "Cerenova"})
    sea = await http.get("/v1/announcement-zones/locate?lat=41.9&lon=11.9", headers=AUTH)
    assert sea.status == 404
    bad = await http.get("/v1/announcement-zones/locate?lat=nord&lon=12", headers=AUTH)
    assert bad.status == 400


async def test_an_alert_reaches_only_its_zone_once_and_its_stats_say_how_it_went(
    clock_and_http: tuple[Clock, Client],
) -> None:
    _, http = clock_and_http
    await _put(http, 801, zone="cerenova")
    mine = await _put(http, 801, topic="allerte", subscribed=True)
    assert mine == {"zone": {"code": "cerenova", "name": "Cerenova"}, "topics": ["allerte"]}
    await _put(http, 802, topic="allerte", subscribed=True, zone="ceri")  # another zone
    await _put(http, 803, topic="eventi", subscribed=True, zone="cerenova")  # another topic
    await _put(http, 804, topic="allerte", subscribed=True, zone="cerenova")
    await _put(http, 804, topic="allerte", subscribed=False)  # changed their mind

    body = {"topic": "allerte", "zones": ["cerenova"], "text": "Allerta arancione: vento forte."}
    status, first = await _publish(http, "alert-1", **body)
    assert status == 201, first
    assert first["recipients"] == 1
    again_status, again = await _publish(http, "alert-1", **body)
    assert (again_status, again["id"]) == (201, first["id"]), "a retry is the same notice"
    assert (await _publish(http, "alert-1", **{**body, "text": "altro"}))[0] == 409

    claimed = await _claim(http)
    assert [d["recipient"] for d in claimed] == ["telegram:801"]
    event = claimed[0]["event"]
    assert event["type"] == "announcement"
    assert event["payload"]["topic"] == "allerte" and event["payload"]["text"] == body["text"]
    await http.post(f"/v1/deliveries/{claimed[0]['id']}/sent", headers=AUTH)

    stats = (await (await http.get(f"/v1/announcements/{first['id']}", headers=AUTH)).json())["stats"]
    assert (stats["delivered"], stats["failed"], stats["pending"], stats["done"]) == (1, 0, 0, True)
    assert stats["seconds"] is not None and stats["seconds"] >= 0

    assert (await http.post("/v1/announcements", json=body, headers=STAFF)).status == 400, "key required"
    assert (await _publish(http, "k2", topic="allerte", zones=["atlantide"], text="x"))[0] == 404


async def test_a_blocked_chat_counts_as_failed(clock_and_http: tuple[Clock, Client]) -> None:
    _, http = clock_and_http
    for user in (811, 812):
        await _put(http, user, topic="eventi", subscribed=True, zone="centro")
    _, notice = await _publish(http, "ev-1", topic="eventi", zones=[], text="Sagra del carciofo domenica.")
    assert notice["recipients"] == 2
    first, second = await _claim(http)
    await http.post(f"/v1/deliveries/{first['id']}/sent", headers=AUTH)
    await http.post(
        f"/v1/deliveries/{second['id']}/failed",
        json={"lease": second["lease"], "error": "Forbidden", "permanent": True},
        headers=AUTH,
    )
    stats = (await (await http.get(f"/v1/announcements/{notice['id']}", headers=AUTH)).json())["stats"]
    assert (stats["delivered"], stats["failed"], stats["done"]) == (1, 1, True)


async def test_an_alert_is_claimed_before_every_other_queued_notice(
    clock_and_http: tuple[Clock, Client],
) -> None:
    _, http = clock_and_http
    for user in range(820, 830):
        await _put(http, user, topic="eventi", subscribed=True, zone="centro")
    await _put(http, 830, topic="allerte", subscribed=True, zone="centro")
    await _put(http, 820, topic="allerte", subscribed=True)
    await _publish(http, "ev", topic="eventi", zones=[], text="Concerto in piazza.")
    await _publish(http, "al", topic="allerte", zones=["centro"], text="Allerta rossa: scuole chiuse.")

    first = await _claim(http, limit=2)
    assert {d["event"]["payload"]["topic"] for d in first} == {"allerte"}
    assert sorted(d["recipient"] for d in first) == ["telegram:820", "telegram:830"]


async def test_a_scheduled_notice_waits_for_its_time_and_holds_nobody_up(
    clock_and_http: tuple[Clock, Client],
) -> None:
    clock, http = clock_and_http
    await _put(http, 840, topic="uffici", subscribed=True, zone="centro")
    await _put(http, 840, topic="eventi", subscribed=True)
    later = (clock() + timedelta(hours=2)).isoformat()
    _, closed = await _publish(
        http, "uf", topic="uffici", zones=[], text="Lunedì l'anagrafe è chiusa.", scheduled_at=later
    )
    await _publish(http, "ev2", topic="eventi", zones=[], text="Mercatino di Natale.")
    assert [d["event"]["payload"]["topic"] for d in await _claim(http)] == ["eventi"]
    clock.advance(timedelta(hours=2, seconds=1))
    assert [d["event"]["payload"]["announcement_id"] for d in await _claim(http)] == [closed["id"]]


async def test_stop_all_forgets_every_topic_and_the_zone(clock_and_http: tuple[Clock, Client]) -> None:
    _, http = clock_and_http
    await _put(http, 850, topic="allerte", subscribed=True, zone="sasso")
    await _put(http, 850, topic="rifiuti", subscribed=True)
    stopped = await http.delete("/v1/me/announcements", headers=chat(850))
    assert stopped.status == 200
    mine = await (await http.get("/v1/me/announcements", headers=chat(850))).json()
    assert mine == {"zone": None, "topics": []}


async def _waste_deliveries(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with create_sessionmaker(engine)() as session:
        rows = await session.execute(
            select(models.Delivery.recipient, models.Announcement.once_key)
            .join(models.Announcement, models.Announcement.event_id == models.Delivery.event_id)
            .where(models.Announcement.once_key.is_not(None))
        )
        return sorted((r, str(k)) for r, k in rows.tuples())


async def test_the_waste_reminder_goes_once_per_subscriber_and_collection_day_across_replicas(
    database_url: str, seeded_engine: AsyncEngine, make_settings: Callable[..., Settings]
) -> None:
    clock = Clock(EVENING - timedelta(hours=1))
    apps = [create_app(make_settings(database_url)) for _ in range(2)]
    for app in apps:
        app[CLOCK] = clock
    async with (
        TestClient(TestServer(apps[0], host="127.0.0.1")) as one,
        TestClient(TestServer(apps[1], host="127.0.0.1")) as two,
    ):
        await _put(one, 860, topic="rifiuti", subscribed=True, zone="cerenova")
        await _put(one, 861, topic="rifiuti", subscribed=True, zone="cerenova")
        await _put(one, 862, topic="allerte", subscribed=True, zone="cerenova")  # not rifiuti

        async def run(http: Client) -> int:
            response = await http.post("/v1/jobs/waste-reminders", headers=AUTH)
            assert response.status == 200, await response.text()
            return int((await response.json())["announced"])

        assert await run(one) == 0, "before 19:00 nothing is announced"
        clock.advance(timedelta(hours=1))
        ran = await asyncio.gather(run(one), run(two), run(one), run(two))
        assert sum(ran) > 0
        key = "waste:cerenova:2026-12-05"
        assert await _waste_deliveries(seeded_engine) == [("telegram:860", key), ("telegram:861", key)]
        clock.advance(timedelta(hours=3))  # still the same evening, later runs
        assert await run(two) == 0
        clock.advance(timedelta(hours=21))  # Saturday evening: Sunday's collection, if any
        await run(one)
        await run(two)
        pairs = await _waste_deliveries(seeded_engine)
        assert [k for _, k in pairs].count(key) == 2
        assert len(pairs) == len(set(pairs)), "nobody told twice of one collection day"
        async with create_sessionmaker(seeded_engine)() as session:
            per_zone_day = await session.scalar(
                select(func.count())
                .select_from(models.Announcement)
                .where(models.Announcement.once_key == key)
            )
        assert per_zone_day == 1
        claimed = [d for d in await _claim(one) if d["recipient"] == "telegram:860"]
        assert "Cerenova" in claimed[0]["event"]["payload"]["text"]


async def test_my_data_shows_my_avvisi_and_erasing_forgets_them(clock_and_http: tuple[Clock, Client]) -> None:
    _, http = clock_and_http
    await _put(http, 870, topic="allerte", subscribed=True, zone="valcanneto")
    mine = await (await http.get("/v1/me/data", headers=chat(870))).json()
    assert mine["announcements"] == [
        {"channel_user": "telegram:870", "zone": "Valcanneto", "topics": ["Allerte di protezione civile"]}
    ]
    assert (await http.delete("/v1/me/data", headers=chat(870))).status == 200
    after = await (await http.get("/v1/me/announcements", headers=chat(870))).json()
    assert after == {"zone": None, "topics": []}
