"""The notification relay: each event told once, in order, to the right chat, cursor kept on disk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from telegram.ext import ExtBot

from backend_client import EventPage, FeedEvent
from bot.notifications import Cursor, NotificationRelay, notification
from bot.render import Renderer
from tests.botapi import BotApiDriver, BotApiServerThread


def event(event_id: int, recipients: tuple[str, ...], to: str = "accolta") -> FeedEvent:
    return FeedEvent(
        id=event_id,
        type="practice_status_changed",
        citizen_id=1,
        payload={
            "protocol_number": f"2026/{event_id:06d}",
            "practice_type_name": "CILA",
            "status_label": to,
            "note": None,
            "next_step": "Non devi fare altro.",
        },
        created_at=datetime.now(UTC),
        recipients=recipients,
    )


class FakeFeed:
    """The back office's feed, in memory."""

    def __init__(self, events: list[FeedEvent]) -> None:
        self.events = events
        self.reads: list[int] = []

    async def events_after(self, after: int, limit: int = 100) -> EventPage:
        self.reads.append(after)
        page = tuple(e for e in self.events if e.id > after)[:limit]
        return EventPage(events=page, last_id=page[-1].id if page else after)


def test_other_events_say_nothing() -> None:
    quiet = FeedEvent(id=1, type="practice_submitted", citizen_id=1, payload={}, created_at=datetime.now(UTC))
    assert notification(quiet) is None


async def test_each_event_is_told_once_and_the_cursor_survives_a_restart(tmp_path: Path) -> None:
    server = BotApiServerThread(token="737373:NOTIFY-TEST").start()
    try:
        driver = BotApiDriver(server.url)
        citizen = driver.user(4242, first_name="Anna")
        citizen.send("ciao")
        feed = FakeFeed([event(1, ("telegram:4242",)), event(2, ("telegram:not-a-number", "web:7")), event(3, ("telegram:4242",), "respinta")])
        cursor = Cursor(tmp_path / "cursor.json")
        async with aiohttp.ClientSession() as session, ExtBot(
            server.token, base_url=server.bot_url, base_file_url=server.file_url, arbitrary_callback_data=True
        ) as bot:
            renderer = Renderer(bot, session)
            client = type("Client", (), {"events": feed.events_after})()
            relay = NotificationRelay(client, renderer, cursor)  # type: ignore[arg-type]
            assert await relay.deliver_pending() == 3
            # A new process reading the same cursor file has nothing left to tell.
            assert await NotificationRelay(client, renderer, Cursor(tmp_path / "cursor.json")).deliver_pending() == 0  # type: ignore[arg-type]
        told = [m for m in driver.outputs(citizen.chat_id) if m.kind == "text"]
        assert ["2026/000001" in told[0].content, "2026/000003" in told[1].content] == [True, True]
        assert len(told) == 2
        assert "«respinta»" in told[1].content and "🔎 Vedi la pratica" in told[1].buttons
        assert cursor.load() == 3
        driver.close()
    finally:
        server.stop()


async def test_a_chat_telegram_refuses_does_not_hold_back_the_others(tmp_path: Path) -> None:
    """A recipient the bot cannot write to ("chat not found") is skipped, not retried for ever."""
    server = BotApiServerThread(token="737374:NOTIFY-TEST").start()
    try:
        driver = BotApiDriver(server.url)
        citizen = driver.user(4343, first_name="Anna")
        citizen.send("ciao")
        # 990001 never wrote to the bot: Telegram answers "Bad Request: chat not found".
        feed = FakeFeed([event(1, ("telegram:990001",)), event(2, ("telegram:4343",))])
        cursor = Cursor(tmp_path / "cursor.json")
        async with aiohttp.ClientSession() as session, ExtBot(
            server.token, base_url=server.bot_url, base_file_url=server.file_url, arbitrary_callback_data=True
        ) as bot:
            client = type("Client", (), {"events": feed.events_after})()
            relay = NotificationRelay(client, Renderer(bot, session), cursor)  # type: ignore[arg-type]
            assert await relay.deliver_pending() == 2
        told = [m for m in driver.outputs(citizen.chat_id) if m.kind == "text"]
        assert len(told) == 1 and "2026/000002" in told[0].content
        assert cursor.load() == 2
        driver.close()
    finally:
        server.stop()


def feed_event(kind: str, payload: dict[str, object]) -> FeedEvent:
    return FeedEvent(id=9, type=kind, citizen_id=1, payload=payload, created_at=datetime.now(UTC))


def test_a_payment_received_is_told_with_amount_date_and_receipt() -> None:
    notice = notification(feed_event("payment_received", {
        "description": "TARI 2026, 2ª rata", "amount_cents": 14350, "paid_at": "2026-11-26T10:15:00+00:00",
        "receipt_number": "R-000042", "receipt_url": "http://127.0.0.1:1/files/abc",
    }))
    assert notice is not None
    assert notice.text.startswith("✅ Pagamento ricevuto: TARI 2026, 2ª rata, 143,50\u00a0€, giovedì 26 novembre 2026.")
    assert "R-000042" in notice.text
    assert notice.document_url == "http://127.0.0.1:1/files/abc"


def test_a_payment_reminder_offers_to_pay_and_to_stop_reminders() -> None:
    notice = notification(feed_event("payment_reminder", {
        "position_id": 7, "description": "IMU 2026, saldo", "amount_cents": 41200, "due_date": "2026-12-16",
    }))
    assert notice is not None
    assert notice.text == "🔔 Promemoria: IMU 2026, saldo di 412,00\u00a0€ scade mercoledì 16 dicembre 2026."
    payloads = [b["payload"] for b in notice.buttons]
    assert '/tax_pay{"tax_position": "7"}' in payloads
    assert '/reminder_settings{"reminder_choice": "off"}' in payloads


def test_an_appointment_reminder_says_when_where_and_what_to_bring() -> None:
    notice = notification(feed_event("appointment_reminder", {
        "code": "CE-7K3P", "service_name": "Carta d'identità elettronica", "location": "Piazza Risorgimento 1",
        "starts_at": "2026-11-30T08:20:00+00:00", "requirements": ["una fototessera", "la tessera sanitaria"],
    }))
    assert notice is not None
    assert "domani, lunedì 30 novembre 2026, alle 9:20" in notice.text
    assert "CE-7K3P" in notice.text and "Piazza Risorgimento 1" in notice.text
    assert "Porta: una fototessera; la tessera sanitaria." in notice.text
