"""Avvisi through the real stack: bot, Rasa, back office, the local Bot API server.

A citizen subscribes by buttons, a publisher in the staff group sends an alert with /avviso,
only the citizens of that topic and zone get it, 🔕 stops it; 2,000 subscribers get one notice
each although the bot is stopped midway and later killed with -9: nobody twice but for
the sends the crash left in doubt.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from backoffice.db import models
from localtelegram import BotApiDriver, BotApiServerThread, TelegramGroup, TelegramUser
from tests.stack import (
    STAFF_CHAT_ID,
    Service,
    Stack,
    add_staff_group,
    backoffice_api,
    free_port,
    http_ok,
    start_bot,
    wait_until,
)
from tests.test_chat_e2e import answers

PUBLISHER_ID = 990_301
_users = itertools.count(760_001)
# The relay sends at most this many at once (bot/notifications.py): the most a kill -9 leaves in doubt.
RELAY_CONCURRENCY = 8
# Sends taken as "just before the kill": the in-flight ones and those answered but not yet marked.
IN_DOUBT = 2 * RELAY_CONCURRENCY
MUTE = "🔕 Non avvisarmi più di questo"
ALERTS = "⚠️ Allerte di protezione civile"


@pytest.fixture(scope="module")
def avvisi_telegram() -> Iterator[BotApiServerThread]:
    server = BotApiServerThread(token="515151:AVVISI-TEST").start()
    add_staff_group(server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def avvisi_stack(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa and the actions of the session, and a back office of this module's own: its outbox
    is claimed only by this module's bot (the session's bot talks to another Telegram)."""
    tmp = tmp_path_factory.mktemp("avvisi-backoffice")
    port = free_port()
    env = {
        **stack.env,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'backoffice.db'}",
        "BACKOFFICE_PORT": str(port),
        "BACKOFFICE_PUBLIC_PORT": str(free_port()),
        "BACKOFFICE_URL": f"http://127.0.0.1:{port}",
    }
    backoffice = Service(
        "backoffice",
        [sys.executable, "-m", "backoffice"],
        env,
        tmp,
        ready=http_ok(f"http://127.0.0.1:{port}/health"),
    )
    backoffice.start()
    yield Stack(env=env, backoffice=backoffice, actions=stack.actions, rasa=stack.rasa)
    backoffice.stop()


@pytest.fixture(scope="module")
def avvisi_bot(
    avvisi_stack: Stack, avvisi_telegram: BotApiServerThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    service = start_bot(
        avvisi_stack,
        avvisi_telegram,
        tmp_path_factory.mktemp("avvisi-bot"),
        STAFF_PUBLISHER_IDS=str(PUBLISHER_ID),
    )
    yield service
    service.stop()


@pytest.fixture()
def tg(avvisi_telegram: BotApiServerThread) -> Iterator[BotApiDriver]:
    driver = BotApiDriver(avvisi_telegram.url)
    yield driver
    driver.close()


def citizen(tg: BotApiDriver, name: str) -> TelegramUser:
    return tg.user(next(_users), first_name=name)


def open_avvisi(person: TelegramUser) -> str:
    person.send("/start")
    answers(person)
    person.press("🔔 Avvisi")
    return answers(person)[-1].content


def subscribe(person: TelegramUser, topic: str, zone: str | None) -> None:
    open_avvisi(person)
    person.press(f"➕ {topic}")
    assert "Attivato." in answers(person)[-1].content
    if zone:
        person.press("📍 Scegli la zona")
        assert "In che zona vivi?" in answers(person)[-1].content
        person.press(zone)
        said = answers(person)[-1]
        assert f"📍 Zona: {zone}." in said.content and f"✅ {topic}" in said.buttons


def received(person: TelegramUser, words: str) -> bool:
    return any(words in str(m.get("text") or "") for m in person.driver.messages(person.chat_id))


def test_an_alert_for_cerenova_reaches_only_its_subscribers_and_mute_stops_it(
    tg: BotApiDriver, avvisi_bot: Service, avvisi_stack: Stack
) -> None:
    anna, bruno, carla, dario = (citizen(tg, n) for n in ("Anna", "Bruno", "Carla", "Dario"))
    subscribe(anna, ALERTS, "Cerenova")
    subscribe(carla, ALERTS, "Ceri")  # another zone
    subscribe(dario, "🎭 Eventi", "Cerenova")  # another topic
    # Bruno places himself by sending where he is: Cerenova, by the zone's outline.
    open_avvisi(bruno)
    bruno.press("📍 Scegli la zona")
    answers(bruno)
    bruno.send_location(41.985, 12.045)
    assert "📍 Zona: Cerenova." in answers(bruno)[-1].content  # zone yes, topic not yet: no alert

    staff = TelegramGroup(tg, STAFF_CHAT_ID, "Staff URP Cerveteri")
    intruder = staff.add_member(tg.user(990_302, first_name="Ospite"), "member").in_chat(staff)
    intruder.send("/avviso")
    assert "solo chi ha il ruolo di pubblicare" in staff.wait_replies(1, timeout=30, settle=0.4)[-1].content

    desk = staff.add_member(tg.user(PUBLISHER_ID, first_name="Protezione civile"), "member").in_chat(staff)
    desk.send("/avviso")
    assert "Di che argomento?" in staff.wait_replies(1, timeout=30, settle=0.4)[-1].content
    desk.press(ALERTS)
    staff.wait_replies(1, timeout=30, settle=0.4)
    desk.press("▫️ Cerenova")
    staff.wait_replies(1, timeout=30, settle=0.4)
    desk.press("➡️ Avanti")
    staff.wait_replies(1, timeout=30, settle=0.4)
    text = "Allerta arancione per vento forte fino a domani sera. Non sostare sotto gli alberi."
    desk.send(text)
    staff.wait_replies(1, timeout=30, settle=0.4)
    desk.press("Nessun allegato")
    preview = staff.wait_replies(3, timeout=30, settle=0.6)
    shown = next(m for m in preview if text in m.content)
    assert shown.content.startswith(f"{ALERTS} · Cerenova") and MUTE in shown.buttons
    desk.press("✅ Invia")
    sent = next(m for m in staff.wait_replies(1, timeout=30, settle=0.4) if "in invio" in m.content)
    assert "a 1 iscritti" in sent.content

    alert = next(m for m in answers(anna, timeout=60) if text in m.content)
    assert alert.content == shown.content and MUTE in alert.buttons
    report = next(m for m in staff.wait_replies(1, timeout=60, settle=0.4) if "📊" in m.content)
    assert "ricevuto da 1" in report.content and "non consegnato a 0" in report.content
    for other in (bruno, carla, dario):
        assert not received(other, text)

    anna.press(MUTE, message_id=alert.message_id)
    assert "Non riceverai più avvisi di questo argomento" in answers(anna)[-1].content
    with backoffice_api(avvisi_stack, f"telegram:{anna.user_id}") as api:
        assert api.get("/v1/me/announcements").json()["topics"] == []

    # Typed, through Rasa: «non voglio più avvisi» stops everything.
    dario.send("non voglio più avvisi")
    assert "non riceverai più avvisi" in answers(dario)[-1].content
    with backoffice_api(avvisi_stack, f"telegram:{dario.user_id}") as api:
        assert api.get("/v1/me/announcements").json() == {"zone": None, "topics": []}


async def _subscribe_many(database_url: str, users: list[int]) -> None:
    """Many chats subscribed to Eventi, written as the API would write them, in one go."""
    now = datetime.now(UTC)
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            topic = (
                await connection.execute(
                    select(models.AnnouncementTopic.id).where(models.AnnouncementTopic.code == "eventi")
                )
            ).scalar_one()
            await connection.execute(
                insert(models.AnnouncementSubscriber.__table__),
                [{"channel_user": f"telegram:{user}", "created_at": now} for user in users],
            )
            await connection.execute(
                insert(models.AnnouncementSubscription.__table__),
                [
                    {"channel_user": f"telegram:{user}", "topic_id": topic, "created_at": now}
                    for user in users
                ],
            )
    finally:
        await engine.dispose()


def test_two_thousand_subscribers_get_one_notice_each_across_a_bot_restart(
    tg: BotApiDriver, avvisi_bot: Service, avvisi_stack: Stack
) -> None:
    users = list(range(61_000_000, 61_002_000))
    for user in users:
        tg.user(user, first_name="Cittadino", started=True)
    asyncio.run(_subscribe_many(avvisi_stack.env["DATABASE_URL"], users))
    after = max([int(c["seq"]) for c in tg.calls()] + [0])
    tg.throttle(3, retry_after=1, methods=["sendMessage"])  # Telegram says "too fast" now and then

    with backoffice_api(avvisi_stack) as api:
        response = api.post(
            "/v1/announcements",
            json={
                "topic": "eventi",
                "zones": [],
                "text": "Concerto di Natale in piazza Santa Maria, sabato alle 18.",
            },
            headers={"Idempotency-Key": "natale-2026", "X-Staff-User": "ufficio.cultura"},
        )
        assert response.status_code == 201, response.text
        notice = response.json()
        assert notice["recipients"] >= len(users)

        def stats() -> dict[str, int]:
            return dict(api.get(f"/v1/announcements/{notice['id']}").json()["stats"])

        wait_until(lambda: stats()["delivered"] >= 400, 180, "400 delivered before the restart")
        avvisi_bot.stop()  # the sender is stopped midway (SIGTERM: it finishes what is in hand)…
        assert stats()["delivered"] < len(users)
        avvisi_bot.start()  # …and comes back: it resumes with what is still owed
        wait_until(lambda: stats()["delivered"] >= 1200, 180, "1,200 delivered before the crash")
        avvisi_bot.kill()  # …then it crashes (kill -9) with sends in flight…
        in_doubt = [c for c in tg.calls("sendMessage", after) if c.get("ok")][-IN_DOUBT:]
        assert stats()["delivered"] < len(users)
        avvisi_bot.start()  # …and resumes again once the leases of the dead one run out
        wait_until(lambda: stats()["pending"] == 0, 300, "the fan-out to end", interval=1.0)
        final = stats()

    wanted = set(users)
    calls = [c for c in tg.calls("sendMessage", after) if c.get("ok")]
    per_chat = Counter(int(c["params"]["chat_id"]) for c in calls if int(c["params"]["chat_id"]) in wanted)
    refused = [c for c in tg.calls("sendMessage", after) if not c.get("ok") and c.get("error_code") != 429]
    assert final["delivered"] >= len(users) and final["failed"] == 0, (final, refused[:2])
    assert len(per_chat) == len(users), "every subscriber got it"
    # Twice only where the crash fell between Telegram's answer and the bot marking it sent:
    # the last sends before the kill -9 (at most the relay's concurrency), never after a SIGTERM.
    twice = {chat for chat, n in per_chat.items() if n > 1}
    assert twice <= {int(c["params"]["chat_id"]) for c in in_doubt}, sorted(twice)[:5]
    assert len(twice) <= RELAY_CONCURRENCY
