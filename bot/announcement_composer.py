"""`/avviso` in the staff group: topic → zones → text → photo or PDF → preview → send or schedule.

Only the publishers (STAFF_PUBLISHER_IDS) may publish; anyone else is told so kindly. The
draft lives in the staff member's user data (shared by every replica); sending is one POST
/v1/announcements under the draft's own Idempotency-Key, so a double tap sends once. When
the delivery is over, the group is told how many received it and how many could not.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from backend_client import BackOfficeError
from bot import announcements
from sportello.clock import PROCESS_CLOCK, ROME, Clock

logger = logging.getLogger(__name__)

DRAFT = "announcement_draft"
NOT_PUBLISHER = (
    "Mi dispiace, solo chi ha il ruolo di pubblicare può mandare avvisi ai cittadini. Chiedi al responsabile."
)
ASK_TEXT = "Scrivi qui il testo dell'avviso, in parole semplici."
ASK_FILE = "Vuoi aggiungere una foto o un PDF? Mandalo ora, oppure tocca «Nessun allegato»."
ASK_WHEN = "Quando va inviato? Scrivi giorno e ora, per esempio 05/12 08:00."
BAD_WHEN = "Non ho capito la data. Scrivi giorno e ora, per esempio 05/12 08:00 (non nel passato)."
_WHEN = re.compile(r"^\s*(\d{1,2})/(\d{1,2})(?:/(\d{4}))?\s+(\d{1,2})[:.](\d{2})\s*$")
STATS_POLL_SECONDS = 5.0
STATS_MAX_POLLS = 1440


@dataclass(frozen=True)
class ComposerAction:
    """A button of the composer: the step and the value chosen."""

    step: str
    value: str = ""


def _keyboard(rows: list[list[tuple[str, ComposerAction]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=a) for t, a in row] for row in rows])


def parse_when(text: str, clock: Clock) -> datetime | None:
    """«05/12 08:00» (this year, Rome time) as an aware datetime in the future, or None."""
    match = _WHEN.match(text)
    if match is None:
        return None
    day, month, year, hour, minute = match.groups()
    now = clock.local_now()
    try:
        at = datetime(int(year or now.year), int(month), int(day), int(hour), int(minute), tzinfo=ROME)
    except ValueError:
        return None
    return at if at > now else None


class Composer:
    """The guided composer of the staff group."""

    def __init__(self, publishers: frozenset[int], clock: Clock | None = None) -> None:
        self._publishers = publishers
        self._clock = clock or PROCESS_CLOCK
        self._watchers: set[asyncio.Task[None]] = set()

    def _draft(self, context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any] | None:
        draft = context.user_data.get(DRAFT) if context.user_data is not None else None
        return draft if isinstance(draft, dict) else None

    def _save(self, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any] | None) -> None:
        if context.user_data is None:
            return
        if draft is None:
            context.user_data.pop(DRAFT, None)
        else:
            context.user_data[DRAFT] = dict(draft)  # a new object: persistence sees the change

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/avviso`: the topics to choose from."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if user.id not in self._publishers:
            await message.reply_text(NOT_PUBLISHER)
            return
        from bot.handlers import services_of

        try:
            catalogue = await services_of(context).backoffice.announcements.catalogue()
        except BackOfficeError:
            await message.reply_text(announcements.UNAVAILABLE)
            return
        self._save(
            context, {"key": secrets.token_urlsafe(12), "step": "topic", "zones": [], "catalogue": catalogue}
        )
        rows = [
            [(f"{t['emoji']} {t['title']}", ComposerAction("topic", t["code"]))] for t in catalogue["topics"]
        ]
        rows.append([("✖️ Annulla", ComposerAction("cancel"))])
        await message.reply_text("📣 Nuovo avviso. Di che argomento?", reply_markup=_keyboard(rows))

    def _zone_keyboard(self, draft: dict[str, Any]) -> InlineKeyboardMarkup:
        chosen = set(draft["zones"])
        rows = [
            [(f"{'✅' if z['code'] in chosen else '▫️'} {z['name']}", ComposerAction("zone", z["code"]))]
            for z in draft["catalogue"]["zones"]
        ]
        rows.append([("🌍 Tutto il comune" if not chosen else "➡️ Avanti", ComposerAction("zones_done"))])
        rows.append([("✖️ Annulla", ComposerAction("cancel"))])
        return _keyboard(rows)

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None or not isinstance(query.data, ComposerAction):
            return
        draft = self._draft(context)
        if user.id not in self._publishers or draft is None:
            await query.answer(
                NOT_PUBLISHER if user.id not in self._publishers else "Questa bozza non c'è più."
            )
            return
        await query.answer("È solo un'anteprima." if query.data.step == "noop" else None)
        action = query.data
        if action.step == "noop":
            return  # a button of the preview
        if action.step == "cancel":
            self._save(context, None)
            await query.edit_message_text("Avviso annullato.")
        elif action.step == "topic":
            draft.update(topic=action.value, step="zones")
            self._save(context, draft)
            await query.edit_message_text(
                "Per quali zone? Toccale, poi «Avanti».", reply_markup=self._zone_keyboard(draft)
            )
        elif action.step == "zone":
            zones = set(draft["zones"]) ^ {action.value}
            draft["zones"] = [z["code"] for z in draft["catalogue"]["zones"] if z["code"] in zones]
            self._save(context, draft)
            await query.edit_message_reply_markup(reply_markup=self._zone_keyboard(draft))
        elif action.step == "zones_done":
            draft["step"] = "text"
            self._save(context, draft)
            await query.edit_message_text(ASK_TEXT)
        elif action.step == "no_file":
            await query.edit_message_reply_markup(reply_markup=None)
            await self._preview(update, context, draft)
        elif action.step == "send":
            await query.edit_message_reply_markup(reply_markup=None)
            await self._publish(update, context, draft, None)
        elif action.step == "schedule":
            draft["step"] = "when"
            self._save(context, draft)
            await query.edit_message_reply_markup(reply_markup=None)
            await context.bot.send_message(
                query.message.chat.id if query.message else user.id,
                ASK_WHEN,
                message_thread_id=draft.get("thread"),
            )

    async def receive(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The text, the photo or PDF, or the time of a draft waiting for it; else not ours."""
        message, user = update.effective_message, update.effective_user
        draft = self._draft(context)
        if message is None or user is None or draft is None or user.id not in self._publishers:
            return
        if message.message_thread_id != draft.get("thread"):
            return  # written in a ticket's topic: for the citizen, not the draft
        step = draft.get("step")
        if step == "text" and message.text:
            draft.update(text=message.text.strip()[:3000], step="file")
            self._save(context, draft)
            no_file = _keyboard([[("Nessun allegato", ComposerAction("no_file"))]])
            await message.reply_text(ASK_FILE, reply_markup=no_file)
        elif step == "file" and (message.photo or message.document):
            if message.photo:
                draft["attachment"] = {"kind": "photo", "file_id": message.photo[-1].file_id}
            else:
                assert message.document is not None
                name = message.document.file_name or "avviso.pdf"
                draft["attachment"] = {
                    "kind": "document",
                    "file_id": message.document.file_id,
                    "filename": name,
                }
            await self._preview(update, context, draft)
        elif step == "when" and message.text:
            at = parse_when(message.text, self._clock)
            if at is None:
                await message.reply_text(BAD_WHEN)
            else:
                await self._publish(update, context, draft, at)
        else:
            return
        raise ApplicationHandlerStop

    def _payload(self, draft: dict[str, Any]) -> dict[str, Any]:
        catalogue = draft["catalogue"]
        topic = next(t for t in catalogue["topics"] if t["code"] == draft["topic"])
        names = [z["name"] for z in catalogue["zones"] if z["code"] in draft["zones"]]
        return {
            "topic": topic["code"],
            "topic_title": topic["title"],
            "emoji": topic["emoji"],
            "zones": names,
            "text": draft.get("text", ""),
            "attachment": draft.get("attachment"),
        }

    async def _preview(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any]
    ) -> None:
        from bot.handlers import services_of

        chat = update.effective_chat
        assert chat is not None
        draft["step"] = "preview"
        self._save(context, draft)
        renderer = services_of(context).renderer
        payload = self._payload(draft)
        thread = draft.get("thread")
        await context.bot.send_message(
            chat.id, "👀 Anteprima, così la vedranno i cittadini:", message_thread_id=thread
        )
        # The citizens' buttons, inert here.
        inert = _keyboard(
            [[(b["title"], ComposerAction("noop"))] for b in announcements.notice_buttons(payload["topic"])]
        )
        await context.bot.send_message(
            chat.id, announcements.notice_text(payload), reply_markup=inert, message_thread_id=thread
        )
        if payload["attachment"]:
            await renderer.send_attachment(chat.id, payload["attachment"])
        choices = _keyboard(
            [
                [("✅ Invia", ComposerAction("send")), ("🕒 Programma", ComposerAction("schedule"))],
                [("✖️ Annulla", ComposerAction("cancel"))],
            ]
        )
        await context.bot.send_message(
            chat.id, "Va bene così?", reply_markup=choices, message_thread_id=thread
        )

    async def _publish(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any], at: datetime | None
    ) -> None:
        from bot.handlers import services_of

        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None
        api = services_of(context).backoffice.announcements
        thread = draft.get("thread")
        body: dict[str, Any] = {
            "topic": draft["topic"],
            "zones": draft["zones"],
            "text": draft.get("text", ""),
        }
        if draft.get("attachment"):
            body["attachment"] = draft["attachment"]
        if at is not None:
            body["scheduled_at"] = at.isoformat()
        try:
            sent = await api.publish(f"telegram-staff:{user.id}", str(draft["key"]), body)
        except BackOfficeError as error:
            logger.warning("Avviso not published: %s", type(error).__name__)
            await context.bot.send_message(
                chat.id,
                "Non sono riuscito a inviare l'avviso. Riprova con ✅ Invia tra poco.",
                message_thread_id=thread,
            )
            return
        self._save(context, None)
        if at is not None:
            when = at.astimezone(ROME).strftime("%d/%m alle %H:%M")
            await context.bot.send_message(
                chat.id,
                f"🕒 Avviso n. {sent['id']} programmato per il {when}, a {sent['recipients']} iscritti.",
                message_thread_id=thread,
            )
        else:
            await context.bot.send_message(
                chat.id,
                f"✅ Avviso n. {sent['id']} in invio a {sent['recipients']} iscritti.",
                message_thread_id=thread,
            )
        task = asyncio.create_task(self._report(context, chat.id, thread, int(sent["id"])))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _report(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, thread: int | None, announcement_id: int
    ) -> None:
        """When the delivery is over, tell the group how it went."""
        from bot.handlers import services_of

        api = services_of(context).backoffice.announcements
        for _ in range(STATS_MAX_POLLS):
            await asyncio.sleep(STATS_POLL_SECONDS)
            try:
                stats = (await api.get(announcement_id))["stats"]
            except BackOfficeError:
                continue
            if stats["done"]:
                took = f" in {round(stats['seconds'] or 0)} s" if stats.get("seconds") is not None else ""
                await context.bot.send_message(
                    chat_id,
                    f"📊 Avviso n. {announcement_id}: ricevuto da {stats['delivered']}, "
                    f"non consegnato a {stats['failed']} (bot bloccato){took}.",
                    message_thread_id=thread,
                )
                return
