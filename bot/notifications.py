"""Tell citizens what happened to their pratiche, from the back office's event feed.

The feed is read with a cursor persisted after every delivered event, so a bot that was
down delivers on restart what happened meanwhile: none lost, none twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from backend_client import BackOfficeClient, BackOfficeError, FeedEvent
from bot.render import Renderer
from sportello.formatting import clock, euro, long_date

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "telegram:"


class DeliveryPostponed(Exception):
    """Telegram could not take a notification now; it is tried again next round."""


class Cursor:
    """The id of the last event handled, in a small file replaced atomically."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> int:
        try:
            return int(json.loads(self._path.read_text(encoding="utf-8"))["after"])
        except (FileNotFoundError, ValueError, KeyError):
            return 0

    def save(self, after: int) -> None:
        temporary = self._path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump({"after": after}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._path)


@dataclass(frozen=True)
class Notice:
    """What one event says to the citizen, and the document that goes with it, if any."""

    text: str
    buttons: list[dict[str, Any]]
    document_url: str | None = None
    filename: str = "ricevuta.pdf"


MENU = {"title": "🏠 Menu", "payload": "/main_menu"}
MY_TAXES = {"title": "💶 I miei tributi", "payload": "/tax_check"}
MY_BOOKINGS = {"title": "📅 I miei appuntamenti", "payload": "/appointment_list"}
ROME = ZoneInfo("Europe/Rome")


def _date(value: Any) -> str:
    try:
        return long_date(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value)


def notification(event: FeedEvent) -> Notice | None:
    """The message for an event, in plain Italian with the next step; None if nothing to say."""
    payload = event.payload
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
    return None


class NotificationRelay:
    """Poll the feed and deliver each event to the chats linked to its citizen."""

    def __init__(
        self, client: BackOfficeClient, renderer: Renderer, cursor: Cursor, interval: float = 1.0
    ) -> None:
        self._client = client
        self._renderer = renderer
        self._cursor = cursor
        self._interval = interval

    async def run_forever(self) -> None:
        while True:
            try:
                await self.deliver_pending()
            except (BackOfficeError, DeliveryPostponed) as error:
                logger.warning("Notifications postponed: %s", type(error).__name__)
            except Exception as error:  # noqa: BLE001 - the relay must outlive any one bad event
                logger.error("Notification relay error: %s", type(error).__name__, exc_info=error)
            await asyncio.sleep(self._interval)

    async def deliver_pending(self) -> int:
        """Deliver every event after the cursor; return how many were handled."""
        after = self._cursor.load()
        handled = 0
        while True:
            page = await self._client.events(after=after, limit=100)
            if not page.events:
                return handled
            for event in page.events:
                await self._deliver(event)
                after = event.id
                self._cursor.save(after)
                handled += 1

    async def _deliver(self, event: FeedEvent) -> None:
        notice = notification(event)
        if notice is None:
            return
        for recipient in event.recipients:
            user_id = recipient.removeprefix(CHANNEL_PREFIX)
            if not recipient.startswith(CHANNEL_PREFIX) or not user_id.isdigit():
                continue  # another channel's user, not ours to tell
            chat_id = int(user_id)
            while True:
                try:
                    await self._send(chat_id, notice)
                    break
                except RetryAfter as error:
                    delay = error.retry_after
                    await asyncio.sleep(delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay))
                except Forbidden:
                    logger.info("A citizen blocked the bot; event %s not delivered to them", event.id)
                    break
                except BadRequest as error:
                    # Telegram refuses this chat for good ("chat not found": the citizen never
                    # opened the bot, or deleted the chat). Retrying would hold every later
                    # event, for every citizen, behind this one.
                    logger.warning("Event %s not deliverable to one chat: %s", event.id, type(error).__name__)
                    break
                except TelegramError as error:
                    # Keep the cursor where it is: the event is tried again next round.
                    logger.warning("Could not deliver event %s: %s", event.id, type(error).__name__)
                    raise DeliveryPostponed(type(error).__name__) from error

    async def _send(self, chat_id: int, notice: Notice) -> None:
        await self._renderer.send_text(chat_id, notice.text, notice.buttons)
        if notice.document_url:
            try:
                await self._renderer.render(
                    chat_id, [{"custom": {"document_url": notice.document_url, "filename": notice.filename}}]
                )
            except (aiohttp.ClientError, TimeoutError) as error:
                # The receipt stays in the back office; the message has gone out.
                logger.warning("Receipt not attached: %s", type(error).__name__)
