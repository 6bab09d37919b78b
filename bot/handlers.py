"""The bot's callbacks: each turns one kind of Telegram update into one message for Rasa."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyKeyboardRemove, Update
from telegram.ext import CallbackContext, ContextTypes

from backend_client import (
    BackOfficeClient,
)
from bot import announcements, simple_mode, texts
from bot.buttons import MENU, PERSON
from bot.handoff import Handoffs
from bot.mydata import ERASE, EXPORT, PersonalData, requested
from bot.rasa import RasaClient, RasaUnavailable
from bot.render import ButtonChoice, Renderer, keyboard
from bot.simple_mode import Display, DisplayChoice

logger = logging.getLogger(__name__)

SERVICES = "services"

# Commands the citizen may type, and the Rasa payload each one stands for.
COMMAND_PAYLOADS = {
    "start": "/greet",
    "menu": "/main_menu",
    "aiuto": "/help",
    "help": "/help",
    "operatore": "/human_handoff",
    "annulla": "/cancel",
}
COMMAND_DESCRIPTIONS = {
    "start": "Ricomincia dall'inizio",
    "menu": "Torna al menu",
    "aiuto": "Cosa posso fare",
    "operatore": "Parla con una persona",
    "annulla": "Annulla quello che stiamo facendo",
    simple_mode.SETTINGS_COMMAND: "Pulsanti grandi o compatti",
}
LINK = {"title": "🔗 Ho il codice", "payload": "/account_link"}


# What a button may send: an intent, optionally with JSON entities. Anchored, so a
# crafted payload cannot smuggle anything else to Rasa.
_PAYLOAD = re.compile(r"^/[a-z_]+(/[a-z_]+)?(\{[^\n]{0,400}\})?$")
_LINK_CODE = re.compile(r"^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$")


@dataclass
class BotServices:
    """What the callbacks share, opened in post_init and closed in post_shutdown."""

    session: aiohttp.ClientSession
    rasa: RasaClient
    renderer: Renderer
    backoffice: BackOfficeClient
    handoffs: Handoffs
    personal_data: PersonalData | None = None


def services_of(context: CallbackContext[Any, Any, Any, Any]) -> BotServices:
    services = context.bot_data[SERVICES]
    assert isinstance(services, BotServices)
    return services


def typed_text_for_rasa(text: str) -> str:
    """Keep typed text as text: a leading slash would make Rasa read it as an intent."""
    return text.strip().lstrip("/").strip() or "?"


def telegram_metadata(update: Update, kind: str, **extra: Any) -> dict[str, Any]:
    """The Telegram facts Rasa may need; no names, no message text."""
    chat = update.effective_chat
    user = update.effective_user
    return {
        "telegram": {
            "kind": kind,
            "chat_id": chat.id if chat else None,
            "user_id": user.id if user else None,
            "language_code": user.language_code if user else None,
            "update_id": update.update_id,
            **extra,
        }
    }


async def converse(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    message: str,
    metadata: dict[str, Any],
) -> None:
    """Send one message to Rasa and render every answer; never leave the citizen without one."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    if announcements.handles(message):
        # The avvisi's own buttons: handled here, against the back office, without NLU.
        await announcements.converse(update, context, message)
        return
    services = services_of(context)
    if metadata.get("telegram", {}).get("kind") == "text":
        services.handoffs.remember(chat.id, "cittadino", message)
    try:
        answers = await services.rasa.send(str(user.id), message, metadata)
    except RasaUnavailable:
        await context.bot.send_message(chat.id, texts.ASSISTANT_DOWN)
        return
    if not answers:
        logger.warning("Rasa gave no answer to update %s", update.update_id)
        await context.bot.send_message(chat.id, texts.ASSISTANT_DOWN)
        return
    handoff = next(
        (
            a["custom"]["handoff"]
            for a in answers
            if isinstance(a.get("custom"), dict) and "handoff" in a["custom"]
        ),
        None,
    )
    wanted = next(
        (
            a["custom"]["announcements"]
            for a in answers
            if isinstance(a.get("custom"), dict) and "announcements" in a["custom"]
        ),
        None,
    )
    task_done = any(isinstance(a.get("custom"), dict) and a["custom"].get("task_done") for a in answers)
    answers = [
        a
        for a in answers
        if not (
            isinstance(a.get("custom"), dict)
            and ("handoff" in a["custom"] or "announcements" in a["custom"] or "task_done" in a["custom"])
        )
    ]
    my_data, answers = requested(answers)
    for answer in answers:
        if answer.get("text"):
            services.handoffs.remember(chat.id, "assistente", str(answer["text"]))
    display = Display.of(context.user_data)
    try:
        await services.renderer.render(chat.id, answers, display)
    finally:
        display.save(context.user_data)
    if wanted is not None:
        await announcements.converse(
            update, context, announcements.PREFIX + ("_stop" if wanted == "stop" else "")
        )
    if isinstance(handoff, dict):
        await services.handoffs.start(chat.id, str(handoff.get("topic") or "Richiesta generica"))
    elif task_done and wanted is None:
        await announcements.offer_once(update, context)
    # Rasa has saved this turn before answering: an erasure now leaves none of it behind.
    if my_data is not None and services.personal_data is not None:
        if my_data == EXPORT:
            await services.personal_data.export(chat.id, user.id)
        elif my_data == ERASE:
            for erased in await services.personal_data.erase(chat.id, user.id):
                context.application.drop_user_data(erased)  # the display mode goes too


async def run_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a typed command (/start, /menu, …) to Rasa as the intent it stands for."""
    message = update.effective_message
    if message is None or not message.text:
        return
    words = message.text.split()
    command = words[0].lstrip("/").split("@")[0].lower()
    payload = COMMAND_PAYLOADS.get(command, "/main_menu")
    if command == "start" and len(words) > 1 and _LINK_CODE.match(words[1]):
        # A t.me/<bot>?start=<code> deep link from the comune's portal.
        payload = f'/account_link{{"link_code": "{words[1].upper()}"}}'
    elif command == "start" and len(words) > 1:
        await context.bot.send_message(message.chat_id, "Questo link non contiene un codice valido.")
    await converse(update, context, payload, telegram_metadata(update, "command", command=command))


async def forward_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send what the citizen typed, or the payload of the big button they tapped, to Rasa."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or message.text is None or chat is None:
        return
    text = message.text
    mode = simple_mode.requested_mode(text)
    if mode is not None:
        await switch_display(update, context, mode)
        return
    if simple_mode.asks_for_settings(text):
        await show_settings(update, context)
        return
    payload = simple_mode.payload_of_label(text)
    if payload is not None:
        # A big button: its exact label is an intent, no NLU guessing.
        services_of(context).handoffs.remember(chat.id, "cittadino", f"[{text}]")
        await converse(update, context, payload, telegram_metadata(update, "keyboard"))
        return
    if simple_mode.is_emoji_only(text):
        await converse(update, context, simple_mode.emoji_payload(text), telegram_metadata(update, "emoji"))
        return
    await converse(update, context, typed_text_for_rasa(text), telegram_metadata(update, "text"))


async def show_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the choice between big buttons (modalità semplice) and compact mode."""
    chat = update.effective_chat
    if chat is None:
        return
    display = Display.of(context.user_data)
    choices = [
        [InlineKeyboardButton("🔠 Modalità semplice", callback_data=DisplayChoice(simple_mode.SIMPLE))],
        [InlineKeyboardButton("🔡 Modalità compatta", callback_data=DisplayChoice(simple_mode.COMPACT))],
        *(
            [InlineKeyboardButton(b["title"], callback_data=ButtonChoice(b["payload"], b["title"]))]
            for b in (MENU, PERSON)
        ),
    ]
    await context.bot.send_message(
        chat.id, texts.SETTINGS.format(mode=display.mode), reply_markup=InlineKeyboardMarkup(choices)
    )


async def switch_display(update: Update, context: ContextTypes.DEFAULT_TYPE, mode: str) -> None:
    """Put the big buttons under the chat, or take them away, and say so."""
    chat = update.effective_chat
    if chat is None:
        return
    display = Display.of(context.user_data)
    display.simple = mode == simple_mode.SIMPLE
    if display.simple:
        await context.bot.send_message(chat.id, texts.SIMPLE_MODE_ON, reply_markup=simple_mode.big_keyboard())
        display.keyboard_on_screen = True
        display.save(context.user_data)
        return
    await context.bot.send_message(chat.id, texts.COMPACT_MODE_ON, reply_markup=ReplyKeyboardRemove())
    display.keyboard_on_screen = False
    display.save(context.user_data)
    # The buttons now live in the messages: show the menu there.
    await converse(update, context, "/main_menu", telegram_metadata(update, "display_mode"))


async def press_display_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Switch between simple and compact mode from an inline button."""
    query = update.callback_query
    if query is None or not isinstance(query.data, DisplayChoice):
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.edit_message_reply_markup(reply_markup=None)
    await switch_display(update, context, query.data.mode)


async def press_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the payload of a pressed button to Rasa and close the keyboard it came from."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    choice = query.data
    if not isinstance(choice, ButtonChoice) or not _PAYLOAD.match(choice.payload):
        await reject_stale_button(update, context)
        return
    if isinstance(query.message, Message):
        # The choice stays visible, and an old keyboard cannot be pressed twice.
        await query.edit_message_reply_markup(reply_markup=None)
    await converse(update, context, choice.payload, telegram_metadata(update, "button"))


async def reject_stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button the bot no longer knows (too old, or forged) with a fresh menu."""
    query = update.callback_query
    if query is not None:
        await query.answer(texts.STALE_BUTTON_ALERT)
    await say_then_show_menu(update, context, texts.STALE_BUTTON, "stale_button")


async def say_then_show_menu(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, kind: str, *, offer_person: bool = False
) -> None:
    """Say what the channel itself must say, then let Rasa show the main menu."""
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(chat.id, text, reply_markup=keyboard([PERSON]) if offer_person else None)
    await converse(update, context, "/main_menu", telegram_metadata(update, kind))


async def report_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log an unexpected error without personal data and tell the citizen something kind."""
    error = context.error
    logger.error("Unhandled %s while handling an update", type(error).__name__, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, texts.UNEXPECTED_ERROR)
        except Exception as send_error:  # noqa: BLE001 - the error handler must not raise
            logger.error("Could not apologise: %s", type(send_error).__name__)
