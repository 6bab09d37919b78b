"""The notification relay: each event told once, in order, to the right chat, cursor kept on disk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from telegram.ext import ExtBot

from backend_client import Delivery, FeedEvent
from bot.notifications import NotificationRelay, notification
from bot.render import Renderer
from localtelegram import BotApiDriver, BotApiServerThread


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


class FakeOutbox:
    """The back office's outbox, in memory: claim, sent, failed, as the HTTP API does them."""

    def __init__(self, deliveries: list[tuple[int, str]], events: dict[int, FeedEvent]) -> None:
        self.pending = [
            Delivery(id=n, lease=f"lease-{n}", lease_until=datetime.now(UTC), attempts=1, recipient=recipient,
                     event=events[event_id])
            for n, (event_id, recipient) in enumerate(deliveries, 1)
        ]
        self.sent_ids: list[int] = []
        self.failures: list[tuple[int, str, bool]] = []
        self.events = self  # the relay speaks to `client.events`

    async def claim(self, limit: int = 50, lease_seconds: int = 60) -> list[Delivery]:
        taken, self.pending = self.pending[:limit], self.pending[limit:]
        return taken

    async def sent(self, delivery_id: int) -> None:
        self.sent_ids.append(delivery_id)

    async def failed(
        self, delivery: Delivery, error: str, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        self.failures.append((delivery.id, error, permanent))


def test_other_events_say_nothing() -> None:
    quiet = FeedEvent(id=1, type="practice_submitted", citizen_id=1, payload={}, created_at=datetime.now(UTC))
    assert notification(quiet) is None


async def test_each_delivery_is_told_and_marked_sent_and_a_refusing_chat_is_parked(tmp_path: Path) -> None:
    server = BotApiServerThread(token="737373:NOTIFY-TEST").start()
    try:
        driver = BotApiDriver(server.url)
        citizen = driver.user(4242, first_name="Anna")
        citizen.send("ciao")
        events = {n: event(n, ()) for n in (1, 2, 3)}
        events[3] = event(3, (), "respinta")
        quiet = FeedEvent(id=4, type="practice_submitted", citizen_id=1, payload={}, created_at=datetime.now(UTC))
        events[4] = quiet
        # 990001 never wrote to the bot: Telegram answers "Bad Request: chat not found".
        outbox = FakeOutbox(
            [(1, "telegram:4242"), (2, "telegram:990001"), (3, "telegram:4242"), (4, "telegram:4242")], events
        )
        async with aiohttp.ClientSession() as session, ExtBot(
            server.token, base_url=server.bot_url, base_file_url=server.file_url, arbitrary_callback_data=True
        ) as bot:
            relay = NotificationRelay(outbox, Renderer(bot, session), batch=2)  # type: ignore[arg-type]
            assert await relay.deliver_pending() == 4
        told = [m for m in driver.outputs(citizen.chat_id) if m.kind == "text"]
        assert len(told) == 2
        assert ["2026/000001" in told[0].content, "2026/000003" in told[1].content] == [True, True]
        assert "«respinta»" in told[1].content and "🔎 Vedi la pratica" in told[1].buttons
        assert sorted(outbox.sent_ids) == [1, 3, 4], "an event with nothing to say is done too"
        assert outbox.failures == [(2, "BadRequest", True)]
        driver.close()
    finally:
        server.stop()


async def test_telegram_asking_to_wait_postpones_the_delivery_with_its_delay(tmp_path: Path) -> None:
    server = BotApiServerThread(token="737374:NOTIFY-TEST").start()
    try:
        driver = BotApiDriver(server.url)
        citizen = driver.user(4343, first_name="Anna")
        citizen.send("ciao")
        outbox = FakeOutbox([(1, "telegram:4343")], {1: event(1, ())})
        driver.throttle(1, retry_after=7, methods=["sendMessage"])
        async with aiohttp.ClientSession() as session, ExtBot(
            server.token, base_url=server.bot_url, base_file_url=server.file_url, arbitrary_callback_data=True
        ) as bot:
            await NotificationRelay(outbox, Renderer(bot, session)).deliver_pending()  # type: ignore[arg-type]
        assert outbox.failures == [(1, "RetryAfter", False)] and outbox.sent_ids == []
        assert [m for m in driver.outputs(citizen.chat_id) if m.kind == "text"] == []
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


def test_the_desk_marking_a_booking_done_or_missed_tells_the_citizen_but_a_check_in_does_not() -> None:
    booking = {"code": "CE-7K3P", "service_name": "Carta d'identità elettronica", "starts_at": "2026-11-30T09:20:00+01:00"}
    done = notification(feed_event("appointment_status_changed", {**booking, "to_status": "completato"}))
    assert done is not None
    assert done.text == (
        "✅ Il tuo appuntamento di lunedì 30 novembre 2026 alle 9:20 per Carta d'identità elettronica "
        "è concluso (codice CE-7K3P). Grazie della visita!"
    )
    missed = notification(feed_event("appointment_status_changed", {**booking, "to_status": "non_presentato"}))
    assert missed is not None and "Non ti abbiamo visto" in missed.text and "prenota un nuovo appuntamento" in missed.text
    assert [b["payload"] for b in missed.buttons] == ["/appointment_book", "/main_menu"]
    assert notification(feed_event("appointment_status_changed", {**booking, "to_status": "presente"})) is None


def test_an_appointment_reminder_says_when_where_and_what_to_bring() -> None:
    notice = notification(feed_event("appointment_reminder", {
        "code": "CE-7K3P", "service_name": "Carta d'identità elettronica", "location": "Piazza Risorgimento 1",
        "starts_at": "2026-11-30T08:20:00+00:00", "requirements": ["una fototessera", "la tessera sanitaria"],
    }))
    assert notice is not None
    assert "domani, lunedì 30 novembre 2026, alle 9:20" in notice.text
    assert "CE-7K3P" in notice.text and "Piazza Risorgimento 1" in notice.text
    assert "Porta: una fototessera; la tessera sanitaria." in notice.text
