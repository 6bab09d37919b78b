"""Avvisi, the citizen's side: topics with one-tap buttons, the zone by buttons or location.

Rasa recognises «avvisi» and «non voglio più avvisi» (custom payload `announcements`); the
buttons (`/announcements_…` payloads) are handled here, against the back office, with no NLU
turn. Every notice carries 🔕, which stops its topic. No linking is needed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from backend_client import BackOfficeError, NotFound
from bot.buttons import MENU, PERSON

logger = logging.getLogger(__name__)

PREFIX = "/announcements"
WAITING_LOCATION = "announcements_waiting_location"

UNAVAILABLE = "Non riesco a gestire gli avvisi in questo momento. Riprova tra poco, o parla con una persona."
STOPPED_ALL = "Fatto: non riceverai più avvisi. Se cambi idea, scrivi «avvisi»."
NO_ZONE = "Nessuna zona scelta: ricevi solo gli avvisi per tutto il comune."
ASK_ZONE = "In che zona vivi? Tocca il nome, oppure mandami la tua posizione (📎 → Posizione)."
OUTSIDE = "Questa posizione non è in una zona del Comune. Scegli la zona dai pulsanti."
# Offered once per citizen, after a task is done (a pratica sent, a booking made); never again.
OFFERED = "announcements_offered"
OFFER = (
    "Vuoi ricevere qui gli avvisi del Comune che ti interessano (allerte, raccolta rifiuti, "
    "chiusure degli uffici, scadenze)? Scegli tu gli argomenti; li togli quando vuoi."
)
OFFER_DECLINED = "Va bene, niente avvisi. Se cambi idea, scrivi «avvisi»."


def notice_text(payload: dict[str, Any]) -> str:
    """The words of a notice, as every subscriber (and the staff's preview) sees them."""
    head = f"{payload.get('emoji', '🔔')} {payload.get('topic_title', 'Avviso')}"
    zones = payload.get("zones") or []
    if zones:
        head += " · " + ", ".join(str(zone) for zone in zones)
    return f"{head}\n\n{payload.get('text', '')}\n\nAvviso del Comune di Cerveteri."


def mute_button(topic: str) -> dict[str, str]:
    return {"title": "🔕 Non avvisarmi più di questo", "payload": _payload("mute", topic=topic)}


def notice_buttons(topic: str) -> list[dict[str, str]]:
    """The buttons under every notice: 🔕 for its topic, and the menu."""
    return [mute_button(topic), MENU]


def _payload(action: str, **values: Any) -> str:
    return f"{PREFIX}_{action}{json.dumps(values, ensure_ascii=False)}" if values else f"{PREFIX}_{action}"


def _parse(message: str) -> tuple[str, dict[str, Any]]:
    head, brace, rest = message.partition("{")
    action = head.removeprefix(PREFIX).lstrip("_") or "menu"
    values: dict[str, Any] = {}
    if brace:
        try:
            parsed = json.loads(brace + rest)
            values = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            values = {}
    return action, values


def handles(message: str) -> bool:
    return message == PREFIX or message.startswith(PREFIX + "_") or message.startswith(PREFIX + "{")


class AnnouncementsChat:
    """The avvisi menu of one chat: what it shows and what a tap changes."""

    def __init__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        from bot.handlers import services_of

        services = services_of(context)
        self._api = services.backoffice.announcements
        self._renderer = services.renderer
        self._context = context
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None
        self.chat_id = chat.id
        self.channel_user = f"telegram:{user.id}"

    async def _say(self, text: str, buttons: list[dict[str, Any]]) -> None:
        await self._renderer.send_text(self.chat_id, text, buttons)

    async def menu(self, said: str | None = None) -> None:
        catalogue = await self._api.catalogue()
        mine = await self._api.mine(self.channel_user)
        on = set(mine["topics"])
        zone = mine.get("zone")
        lines = [said] if said else []
        lines.append("🔔 Avvisi del Comune. Tocca un argomento per attivarlo (✅) o toglierlo.")
        lines.append(f"📍 Zona: {zone['name']}." if zone else NO_ZONE)
        buttons = [
            {
                "title": f"{'✅' if t['code'] in on else '➕'} {t['emoji']} {t['title']}",
                "payload": _payload("topic", topic=t["code"], on=t["code"] not in on),
            }
            for t in catalogue["topics"]
        ]
        buttons.append(
            {"title": "📍 Cambia zona" if zone else "📍 Scegli la zona", "payload": _payload("zones")}
        )
        if on:
            buttons.append({"title": "🔕 Nessun avviso", "payload": _payload("stop")})
        buttons.append(MENU)
        await self._say("\n".join(lines), buttons)

    async def zones(self) -> None:
        catalogue = await self._api.catalogue()
        if self._context.user_data is not None:
            self._context.user_data[WAITING_LOCATION] = True
        buttons = [
            {"title": z["name"], "payload": _payload("zone", zone=z["code"])} for z in catalogue["zones"]
        ]
        await self._say(ASK_ZONE, [*buttons, {"title": "↩️ Avvisi", "payload": PREFIX}])

    async def run(self, message: str) -> None:
        action, values = _parse(message)
        try:
            await self._run(action, values)
        except NotFound:
            await self.menu("Non trovo questa scelta: eccoti gli avvisi di adesso.")
        except BackOfficeError as error:
            logger.warning("Avvisi unavailable: %s", type(error).__name__)
            await self._say(UNAVAILABLE, [PERSON, MENU])

    async def _run(self, action: str, values: dict[str, Any]) -> None:
        topic = str(values.get("topic", ""))
        if action == "topic" and topic:
            await self._api.update(self.channel_user, topic=topic, subscribed=bool(values.get("on")))
            await self.menu("Attivato." if values.get("on") else "Tolto.")
        elif action == "mute" and topic:
            await self._api.update(self.channel_user, topic=topic, subscribed=False)
            await self.menu("🔕 Non riceverai più avvisi di questo argomento.")
        elif action == "zones":
            await self.zones()
        elif action == "zone" and values.get("zone"):
            self._stop_waiting()
            await self._api.update(self.channel_user, zone=str(values["zone"]))
            await self.menu("Zona salvata.")
        elif action == "no_thanks":
            await self._say(OFFER_DECLINED, [MENU])
        elif action == "stop":
            self._stop_waiting()
            await self._api.stop_all(self.channel_user)
            await self._say(STOPPED_ALL, [{"title": "🔔 Avvisi", "payload": PREFIX}, MENU])
        else:
            await self.menu()

    async def located(self, lat: float, lon: float) -> None:
        self._stop_waiting()
        try:
            zone = await self._api.locate(lat, lon)
        except NotFound:
            await self._say(OUTSIDE, [{"title": "📍 Scegli la zona", "payload": _payload("zones")}, MENU])
            return
        except BackOfficeError:
            await self._say(UNAVAILABLE, [PERSON, MENU])
            return
        await self.run(_payload("zone", zone=zone["code"]))

    def _stop_waiting(self) -> None:
        if self._context.user_data is not None:
            self._context.user_data.pop(WAITING_LOCATION, None)


async def converse(update: Update, context: ContextTypes.DEFAULT_TYPE, message: str) -> None:
    """A `/announcements…` payload (button, menu, Rasa's custom answer)."""
    if context.user_data is not None:
        context.user_data[OFFERED] = True  # who has seen the avvisi is not offered them again
    await AnnouncementsChat(update, context).run(message)


async def offer_once(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After a task is done: offer the avvisi, once in the life of the chat, never pushed again."""
    chat = update.effective_chat
    if chat is None or context.user_data is None or context.user_data.get(OFFERED):
        return
    context.user_data[OFFERED] = True
    from bot.handlers import services_of

    await services_of(context).renderer.send_text(
        chat.id,
        OFFER,
        [
            {"title": "🔔 Sì, scelgo gli avvisi", "payload": PREFIX},
            {"title": "No, grazie", "payload": _payload("no_thanks")},
            MENU,
            PERSON,
        ],
    )


async def receive_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A location sent after «Scegli la zona»: place it. False when no zone was being asked."""
    message = update.effective_message
    if (
        message is None
        or message.location is None
        or context.user_data is None
        or not context.user_data.get(WAITING_LOCATION)
    ):
        return False
    await AnnouncementsChat(update, context).located(message.location.latitude, message.location.longitude)
    return True
