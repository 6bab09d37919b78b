"""Tell citizens what happened to their pratiche, from the back office's event feed.

The back office keeps an outbox (one delivery per event and chat); the bot claims due
deliveries with a lease and marks each sent after Telegram's answer, so a bot that was down,
or lost its disk, tells on restart exactly what is still owed: none lost, none twice except a
notice Telegram took just before a crash, before the bot could say so.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiohttp
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from backend_client import BackOfficeClient, BackOfficeError, Delivery, FeedEvent
from bot import announcements
from bot.buttons import MENU
from bot.health import DELIVERIES
from bot.render import Renderer
from sportello.clock import ROME
from sportello.formatting import clock, euro, long_date

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "telegram:"


@dataclass(frozen=True)
class Notice:
    """What one event says to the citizen, and the document that goes with it, if any."""

    text: str
    buttons: list[dict[str, Any]]
    document_url: str | None = None
    filename: str = "ricevuta.pdf"
    # An avviso's photo or PDF: {"kind": "photo" | "document", "file_id" | "url", "filename"}.
    attachment: dict[str, Any] | None = None


MY_TAXES = {"title": "💶 I miei tributi", "payload": "/tax_check"}
MY_BOOKINGS = {"title": "📅 I miei appuntamenti", "payload": "/appointment_list"}
BOOK = {"title": "📅 Prenota", "payload": "/appointment_book"}


def _date(value: Any) -> str:
    try:
        return long_date(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value)


def notification(event: FeedEvent) -> Notice | None:
    """The message for an event, in plain Italian with the next step; None if nothing to say."""
    payload = event.payload
    if event.type == "announcement":
        topic = str(payload.get("topic", ""))
        attachment = payload.get("attachment")
        return Notice(
            announcements.notice_text(payload),
            announcements.notice_buttons(topic),
            attachment=attachment if isinstance(attachment, dict) else None,
        )
    if event.type == "practice_status_changed":
        number = payload.get("protocol_number", "")
        lines = [
            f"📬 Novità sulla tua pratica {number} ({payload.get('practice_type_name', '')}): "
            f"ora è «{payload.get('status_label', payload.get('to_status', ''))}».",
        ]
        if payload.get("note"):
            lines.append(f"Nota dell'ufficio: {payload['note']}")
        if payload.get("next_step"):
            lines.append(str(payload["next_step"]))
        buttons = [
            {"title": "🔎 Vedi la pratica", "payload": f'/practice_status{{"protocol_number": "{number}"}}'},
            MENU,
        ]
        return Notice("\n".join(lines), buttons)
    if event.type == "payment_received":
        text = (
            f"✅ Pagamento ricevuto: {payload.get('description', '')}, {euro(int(payload.get('amount_cents', 0)))}, "
            f"{_date(payload.get('paid_at', ''))}.\n"
            f"Ricevuta n. {payload.get('receipt_number', '')}. Grazie!"
        )
        url = payload.get("receipt_url")
        return Notice(text, [MY_TAXES, MENU], str(url) if url else None)
    if event.type == "payment_reminder":
        text = (
            f"🔔 Promemoria: {payload.get('description', '')} di {euro(int(payload.get('amount_cents', 0)))} "
            f"scade {_date(payload.get('due_date', ''))}."
        )
        position = payload.get("position_id")
        pay = {"title": "💳 Paga ora", "payload": f'/tax_pay{{"tax_position": "{position}"}}'}
        off = {"title": "🔕 Niente promemoria", "payload": '/reminder_settings{"reminder_choice": "off"}'}
        return Notice(text, [pay, off, MENU] if position else [MY_TAXES, off, MENU])
    if event.type == "appointment_reminder":
        try:
            starts = datetime.fromisoformat(str(payload.get("starts_at"))).astimezone(ROME)
            when = f"domani, {long_date(starts.date())}, alle {clock(starts)}"
        except ValueError:
            when = "domani"
        lines = [
            f"🔔 Promemoria: {when} hai un appuntamento per {payload.get('service_name', '')}.",
            f"Dove: {payload.get('location', '')}. Codice: {payload.get('code', '')}.",
        ]
        if payload.get("requirements"):
            lines.append("Porta: " + "; ".join(str(r) for r in payload["requirements"]) + ".")
        lines.append("Se non puoi venire, disdici: il posto andrà a un altro cittadino.")
        return Notice("\n".join(lines), [MY_BOOKINGS, MENU])
    if event.type == "appointment_status_changed":
        return _desk_notice(payload)
    return None


def _desk_notice(payload: dict[str, Any]) -> Notice | None:
    """What the desk marked: served, or not seen. A check-in says nothing: the citizen is there."""
    service, code = payload.get("service_name", ""), payload.get("code", "")
    try:
        starts = datetime.fromisoformat(str(payload.get("starts_at"))).astimezone(ROME)
        when = f"di {long_date(starts.date())} alle {clock(starts)}"
    except ValueError:
        when = ""
    if payload.get("to_status") == "completato":
        text = f"✅ Il tuo appuntamento {when} per {service} è concluso (codice {code}). Grazie della visita!"
        return Notice(" ".join(text.split()), [MY_BOOKINGS, MENU])
    if payload.get("to_status") == "non_presentato":
        text = (
            f"Non ti abbiamo visto all'appuntamento {when} per {service} (codice {code}). "
            "Se ti serve ancora, prenota un nuovo appuntamento."
        )
        return Notice(" ".join(text.split()), [BOOK, MENU])
    return None


class NotificationRelay:
    """Claim due deliveries from the back office's outbox and tell each chat its notice.

    Any number of bots may run this: each claim is a lease, a chat's notices come one at a
    time and in order, and a notice is marked sent only after Telegram has taken it.
    """

    def __init__(
        self,
        client: BackOfficeClient,
        renderer: Renderer,
        interval: float = 1.0,
        batch: int = 50,
        lease_seconds: int = 60,
        concurrency: int = 8,
    ) -> None:
        self._client = client
        self._renderer = renderer
        self._interval = interval
        self._batch = batch
        self._lease_seconds = lease_seconds
        self._slots = asyncio.Semaphore(concurrency)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.deliver_pending()
            except BackOfficeError as error:
                logger.warning("Notifications postponed: %s", type(error).__name__)
            except Exception as error:  # noqa: BLE001 - the relay must outlive any one bad event
                logger.error("Notification relay error: %s", type(error).__name__, exc_info=error)
            await asyncio.sleep(self._interval)

    async def deliver_pending(self) -> int:
        """Deliver what is due now; return how many deliveries were handled.

        The next batch is claimed while the last one is still going out (at most two in hand),
        so a long fan-out never waits between batches for a claim or for one slow chat.
        """
        handled = 0
        in_hand: set[asyncio.Task[None]] = set()
        try:
            while True:
                if len(in_hand) <= self._batch:
                    claimed = await self._client.events.claim(
                        limit=self._batch, lease_seconds=self._lease_seconds
                    )
                    in_hand.update(asyncio.create_task(self._deliver(delivery)) for delivery in claimed)
                    handled += len(claimed)
                    if not claimed:
                        if in_hand:
                            await asyncio.gather(*in_hand)
                        return handled
                    continue
                done, in_hand = await asyncio.wait(in_hand, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # a back office that failed us stops this round, as before
        finally:
            if in_hand:
                # What is already on its way finishes (or fails) before the next round.
                await asyncio.gather(*in_hand, return_exceptions=True)

    async def _deliver(self, delivery: Delivery) -> None:
        async with self._slots:
            notice = notification(delivery.event)
            user_id = delivery.recipient.removeprefix(CHANNEL_PREFIX)
            if notice is None or not user_id.lstrip("-").isdigit():
                await self._client.events.sent(delivery.id)  # nothing to say to this chat
                return
            try:
                await self._send(int(user_id), notice)
            except RetryAfter as error:
                delay = error.retry_after
                seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
                await self._client.events.failed(delivery, "RetryAfter", retry_after=seconds)
                DELIVERIES.labels("postponed").inc()
                return
            except (Forbidden, BadRequest) as error:
                # The citizen blocked the bot, or Telegram refuses this chat for good ("chat
                # not found"): parked for the office to see, never retried.
                logger.info("Delivery %s parked: %s", delivery.id, type(error).__name__)
                await self._client.events.failed(delivery, type(error).__name__, permanent=True)
                DELIVERIES.labels("parked").inc()
                return
            except TelegramError as error:
                logger.warning("Delivery %s postponed: %s", delivery.id, type(error).__name__)
                await self._client.events.failed(delivery, type(error).__name__)
                DELIVERIES.labels("failed").inc()
                return
            await self._client.events.sent(delivery.id)
            DELIVERIES.labels("sent").inc()

    async def _send(self, chat_id: int, notice: Notice) -> None:
        await self._renderer.send_text(chat_id, notice.text, notice.buttons)
        if notice.attachment:
            try:
                await self._renderer.send_attachment(chat_id, notice.attachment)
            except (aiohttp.ClientError, TimeoutError, BadRequest) as error:
                # The words have gone out; a file Telegram refuses is not worth a second copy.
                logger.warning("Attachment not sent: %s", type(error).__name__)
        if notice.document_url:
            try:
                await self._renderer.render(
                    chat_id, [{"custom": {"document_url": notice.document_url, "filename": notice.filename}}]
                )
            except (aiohttp.ClientError, TimeoutError, TelegramError) as error:
                # The receipt stays in the back office; the message has gone out.
                logger.warning("Receipt not attached: %s", type(error).__name__)
